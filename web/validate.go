package web

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/hapa-project/hapa/realtime"
)

// validator collects field errors of one request body; err turns them into one
// catalogue error. Missing fields are E4002 (400), out-of-range values E4008 (422); the
// first recorded problem decides the response code, all are listed in details.
type validator struct {
	fields []realtime.FieldError
}

func (v *validator) add(field string, code realtime.Code, msg string) {
	v.fields = append(v.fields, realtime.FieldError{Field: field, Message: msg, Code: code})
}

// required records field as missing when present is false.
func (v *validator) required(field string, present bool) bool {
	if !present {
		v.add(field, realtime.CodeMissingField, "field required")
	}
	return present
}

// requiredString records a missing or blank string.
func (v *validator) requiredString(field, s string) bool {
	return v.required(field, strings.TrimSpace(s) != "")
}

// maxLen checks the length of s in characters (runes, as the original counted).
func (v *validator) maxLen(field, s string, n int) bool {
	if c := utf8.RuneCountInString(s); c > n {
		v.add(field, realtime.CodeOutOfRange, fmt.Sprintf("must be at most %d characters (got %d)", n, c))
		return false
	}
	return true
}

// intRange checks min ≤ x ≤ max.
func (v *validator) intRange(field string, x, min, max int) bool {
	if x < min || x > max {
		v.add(field, realtime.CodeOutOfRange, fmt.Sprintf("must be between %d and %d (got %d)", min, max, x))
		return false
	}
	return true
}

// floatRange checks min ≤ x ≤ max.
func (v *validator) floatRange(field string, x, min, max float64) bool {
	if x < min || x > max || x != x {
		v.add(field, realtime.CodeOutOfRange, fmt.Sprintf("must be between %g and %g (got %g)", min, max, x))
		return false
	}
	return true
}

// oneOf checks s is one of allowed (an empty s is accepted: use required for that).
func (v *validator) oneOf(field, s string, allowed ...string) bool {
	if s == "" {
		return true
	}
	for _, a := range allowed {
		if s == a {
			return true
		}
	}
	v.add(field, realtime.CodeOutOfRange, fmt.Sprintf("must be one of %s (got %q)", strings.Join(allowed, ", "), s))
	return false
}

// err returns nil when no field failed, else one *realtime.Error listing them all.
func (v *validator) err() error {
	if len(v.fields) == 0 {
		return nil
	}
	f := v.fields[0]
	e := realtime.NewError(f.Code, fmt.Sprintf("%s: %s", f.Field, f.Message))
	if len(v.fields) > 1 {
		e.Message += fmt.Sprintf(" (and %d more)", len(v.fields)-1)
	}
	e.Fields = append([]realtime.FieldError(nil), v.fields...)
	return e
}
