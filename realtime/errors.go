package realtime

import (
	"errors"
	"fmt"
	"net/http"
	"time"
)

// Code is a catalogue error code (docs/api.md, "Error catalogue"): E4xxx client
// errors, E5xxx server errors.
type Code string

// The 22 catalogue codes. The numbering follows the seed README and is normative.
const (
	CodeInvalidInput     Code = "E4001" // invalid input format (bad JSON, wrong type)
	CodeMissingField     Code = "E4002" // missing required field
	CodeInvalidKey       Code = "E4003" // invalid or missing API key / token
	CodeRateLimited      Code = "E4004" // rate limit exceeded
	CodeForbidden        Code = "E4005" // permission denied (scope)
	CodeKeyExpired       Code = "E4006" // API key expired
	CodeKeyRevoked       Code = "E4007" // API key revoked
	CodeOutOfRange       Code = "E4008" // value out of range
	CodeUnsupportedLang  Code = "E4009" // unsupported language
	CodePayloadTooLarge  Code = "E4010" // payload too large
	CodeNotFound         Code = "E4011" // not found
	CodeConflict         Code = "E4012" // conflict (duplicate stream id, existing name)
	CodeOriginNotAllowed Code = "E4013" // origin not allowed
	CodeTooManyStreams   Code = "E4014" // too many concurrent streams
	CodeTooManyConns     Code = "E4015" // too many connections for this key
	CodeQuotaExceeded    Code = "E4016" // token quota exceeded
	CodeModelTimeout     Code = "E5001" // AI model timeout
	CodeCacheError       Code = "E5002" // cache service error (bypassed)
	CodeDatabaseError    Code = "E5003" // database error
	CodeInternal         Code = "E5004" // internal server error
	CodeModelUnavailable Code = "E5005" // AI model unavailable (no healthy replica)
	CodeModelError       Code = "E5006" // AI model returned an error
)

// CodeInfo describes one catalogue entry.
type CodeInfo struct {
	Code        Code
	HTTPStatus  int
	Message     string // default client-facing message
	Description string // short English description (dashboards)
	Hint        string // recovery hint
	Retryable   bool
}

// catalogue is the one table of codes. web maps codes to HTTP with it, the realtime
// session maps them to stream.error frames.
var catalogue = map[Code]CodeInfo{
	CodeInvalidInput:     {CodeInvalidInput, http.StatusBadRequest, "Invalid input format", "Invalid input format", "Check the request body is valid JSON of the documented shape", false},
	CodeMissingField:     {CodeMissingField, http.StatusBadRequest, "Missing required field", "Missing required field", "Include every required field", false},
	CodeInvalidKey:       {CodeInvalidKey, http.StatusUnauthorized, "Invalid or missing API key", "Invalid API key", "Send a valid key in X-API-Key or Authorization: Bearer", false},
	CodeRateLimited:      {CodeRateLimited, http.StatusTooManyRequests, "Rate limit exceeded", "Rate limit exceeded", "Wait for Retry-After seconds, then retry", true},
	CodeForbidden:        {CodeForbidden, http.StatusForbidden, "Permission denied", "Permission denied", "Use a key with the required scope", false},
	CodeKeyExpired:       {CodeKeyExpired, http.StatusUnauthorized, "API key expired", "API key expired", "Create a new API key", false},
	CodeKeyRevoked:       {CodeKeyRevoked, http.StatusUnauthorized, "API key revoked", "API key revoked", "Create a new API key", false},
	CodeOutOfRange:       {CodeOutOfRange, http.StatusUnprocessableEntity, "Value out of range", "Value out of range", "Keep values within the documented limits", false},
	CodeUnsupportedLang:  {CodeUnsupportedLang, http.StatusUnprocessableEntity, "Unsupported language", "Unsupported language", "Use a language the model completes (GET /api/v1/code/models lists them); generation takes Python", false},
	CodePayloadTooLarge:  {CodePayloadTooLarge, http.StatusRequestEntityTooLarge, "Payload too large", "Payload too large", "Send a smaller body", false},
	CodeNotFound:         {CodeNotFound, http.StatusNotFound, "Not found", "Not found", "Check the path or id", false},
	CodeConflict:         {CodeConflict, http.StatusConflict, "Conflict", "Conflict", "Use a unique id or name", false},
	CodeOriginNotAllowed: {CodeOriginNotAllowed, http.StatusForbidden, "Origin not allowed", "Origin not allowed", "Add the origin to ALLOWED_ORIGINS", false},
	CodeTooManyStreams:   {CodeTooManyStreams, http.StatusTooManyRequests, "Too many concurrent streams", "Too many concurrent streams", "Wait for a stream to finish or cancel one", true},
	CodeTooManyConns:     {CodeTooManyConns, http.StatusTooManyRequests, "Too many connections for this key", "Too many connections", "Close idle connections", true},
	CodeQuotaExceeded:    {CodeQuotaExceeded, http.StatusTooManyRequests, "Token quota exceeded", "Token quota exceeded", "Wait for the quota window to reset", true},
	CodeModelTimeout:     {CodeModelTimeout, http.StatusGatewayTimeout, "AI model timeout", "AI model timeout", "Retry the request", true},
	CodeCacheError:       {CodeCacheError, http.StatusServiceUnavailable, "Cache service error", "Cache service error", "None: the cache is bypassed", true},
	CodeDatabaseError:    {CodeDatabaseError, http.StatusServiceUnavailable, "Database error", "Database error", "Retry later", true},
	CodeInternal:         {CodeInternal, http.StatusInternalServerError, "Internal server error", "Internal server error", "Report the incident id", false},
	CodeModelUnavailable: {CodeModelUnavailable, http.StatusServiceUnavailable, "AI model unavailable", "AI model unavailable", "Retry later", true},
	CodeModelError:       {CodeModelError, http.StatusBadGateway, "AI model returned an error", "AI model error", "Retry, or change the request", true},
}

// Lookup returns the catalogue entry of c; unknown codes map to E5004.
func Lookup(c Code) CodeInfo {
	if info, ok := catalogue[c]; ok {
		return info
	}
	return catalogue[CodeInternal]
}

// Catalogue returns every entry, ordered by code.
func Catalogue() []CodeInfo {
	out := make([]CodeInfo, 0, len(catalogue))
	for _, c := range []Code{CodeInvalidInput, CodeMissingField, CodeInvalidKey, CodeRateLimited,
		CodeForbidden, CodeKeyExpired, CodeKeyRevoked, CodeOutOfRange, CodeUnsupportedLang,
		CodePayloadTooLarge, CodeNotFound, CodeConflict, CodeOriginNotAllowed, CodeTooManyStreams,
		CodeTooManyConns, CodeQuotaExceeded, CodeModelTimeout, CodeCacheError, CodeDatabaseError,
		CodeInternal, CodeModelUnavailable, CodeModelError} {
		out = append(out, catalogue[c])
	}
	return out
}

// FieldError is one invalid field of a request body.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
	Code    Code   `json:"code"`
}

// Error is the one error type that crosses the realtime boundary. Transports map it to
// HTTP bodies (web) or stream.error frames (session).
type Error struct {
	Code       Code
	Message    string        // client-facing; never internal detail
	Detail     string        // internal detail: logged and stored with the incident, never sent
	RetryAfter time.Duration // for E4004/E4014/E4016
	IncidentID string        // set for 5xx once recorded
	Fields     []FieldError
	Err        error // wrapped cause
}

// NewError builds an Error with the catalogue message when msg is empty.
func NewError(code Code, msg string) *Error {
	if msg == "" {
		msg = Lookup(code).Message
	}
	return &Error{Code: code, Message: msg}
}

// Wrap builds an Error around an internal cause; the cause stays out of Message.
func Wrap(code Code, cause error) *Error {
	e := NewError(code, "")
	e.Err = cause
	if cause != nil {
		e.Detail = cause.Error()
	}
	return e
}

func (e *Error) Error() string {
	if e.Detail != "" {
		return fmt.Sprintf("%s: %s (%s)", e.Code, e.Message, e.Detail)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Status is the HTTP status of the error's code.
func (e *Error) Status() int { return Lookup(e.Code).HTTPStatus }

// Retryable reports whether a client may retry the same request.
func (e *Error) Retryable() bool { return Lookup(e.Code).Retryable }

// Server reports whether the error is a 5xx (recorded as an incident).
func (e *Error) Server() bool { return e.Status() >= 500 }

// AsError converts any error to *Error; non-catalogue errors become E5004.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return Wrap(CodeInternal, err)
}
