package realtime

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/hapa-project/hapa/store"
)

// ErrorFigureSource counts the errors of a window; *store.DB implements it.
type ErrorFigureSource interface {
	ErrorFigures(ctx context.Context, since time.Time, class store.ErrorClass) (store.ErrorFigures, error)
}

// ErrorReport is the error figures of a window as the operations API and the console
// show them (docs/operations.md, "Operations API"): cancels apart, errors of a class,
// and the codes of that class from every source, most frequent first.
type ErrorReport struct {
	Class     store.ErrorClass
	Requests  int // request-log rows of the window
	Cancelled int // of them, cancelled by the client (status 499): not errors
	Failed    int // of them, failed, of the class
	// Errors is every error of the class: failed request-log rows, incidents of
	// requests without one, and client errors of requests without one.
	Errors       int
	ClientErrors int // every source, 4xx
	ServerErrors int // every source, 5xx
	Codes        []CodeCount
}

// CodeCount is one code's count in a window, with its first and last occurrence there.
type CodeCount struct {
	Code        Code
	Count       int
	Description string
	First       time.Time
	Last        time.Time
}

// ReportErrors builds the error report of the window since a time. Request-log rows
// without a code are named by their status (CodeForStatus).
func ReportErrors(ctx context.Context, src ErrorFigureSource, since time.Time, class store.ErrorClass) (ErrorReport, error) {
	f, err := src.ErrorFigures(ctx, since, class)
	if err != nil {
		return ErrorReport{}, err
	}
	r := ErrorReport{Class: class, Requests: f.Requests, Cancelled: f.Cancelled, Failed: f.Failed,
		ClientErrors: f.ClientErrors, ServerErrors: f.ServerErrors, Codes: []CodeCount{}}
	byCode := map[Code]int{} // index in r.Codes
	for _, c := range f.Codes {
		code := Code(c.Code)
		if code == "" {
			code = CodeForStatus(c.Status)
		}
		r.Errors += c.Count
		i, ok := byCode[code]
		if !ok {
			byCode[code] = len(r.Codes)
			r.Codes = append(r.Codes, CodeCount{Code: code, Count: c.Count, Description: Lookup(code).Description, First: c.First, Last: c.Last})
			continue
		}
		cc := &r.Codes[i]
		cc.Count += c.Count
		if c.First.Before(cc.First) {
			cc.First = c.First
		}
		if c.Last.After(cc.Last) {
			cc.Last = c.Last
		}
	}
	slices.SortFunc(r.Codes, func(a, b CodeCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Code, b.Code))
	})
	return r, nil
}

// CodeForStatus names an HTTP error status by the first catalogue code with that
// status; a status no code has is E4001 below 500 and E5004 from 500 on.
func CodeForStatus(status int) Code {
	for _, c := range Catalogue() {
		if c.HTTPStatus == status {
			return c.Code
		}
	}
	if status < 500 {
		return CodeInvalidInput
	}
	return CodeInternal
}
