package store

import (
	"context"
	"strings"
	"time"
)

// ErrorClass selects error figures: client errors (4xx, codes E4xxx), server errors
// (5xx, codes E5xxx) or both.
type ErrorClass string

// The error classes of ?class= (docs/operations.md, "Operations API").
const (
	ClassAll    ErrorClass = "all"
	ClassClient ErrorClass = "4xx"
	ClassServer ErrorClass = "5xx"
)

// ParseErrorClass reads a class; "" is ClassAll.
func ParseErrorClass(s string) (ErrorClass, bool) {
	switch c := ErrorClass(s); c {
	case "":
		return ClassAll, true
	case ClassAll, ClassClient, ClassServer:
		return c, true
	}
	return "", false
}

// has reports whether the class c includes errors of class of (ClassClient or
// ClassServer).
func (c ErrorClass) has(of ErrorClass) bool { return c == ClassAll || c == of }

// codeClass is the class of a catalogue code: E4xxx are client errors, anything else
// a server error.
func codeClass(code string) ErrorClass {
	if strings.HasPrefix(code, "E4") {
		return ClassClient
	}
	return ClassServer
}

// ErrorCodeCount is how often one error occurred in a window, from one source.
type ErrorCodeCount struct {
	Code   string     // catalogue code; "" for request-log rows without one, which Status names
	Status int        // the HTTP status of rows without a code; 0 otherwise
	Class  ErrorClass // ClassClient or ClassServer
	Count  int
	First  time.Time // first and last occurrence in the window
	Last   time.Time
	Source string // "request_log", "incidents" or "client_errors"
}

// ErrorFigures are the error figures of a window, every one counted in SQL.
type ErrorFigures struct {
	Requests  int // request-log rows
	Cancelled int // of them, status 499: not errors
	Failed    int // of them, failed (RequestLogRow.Failed), of the class asked for
	// ClientErrors and ServerErrors count every source (whatever the class asked
	// for): failed request-log rows, incidents of requests without a failed row, and
	// the client errors of requests without a row.
	ClientErrors int
	ServerErrors int
	Codes        []ErrorCodeCount // of the class asked for, unordered
}

// ErrorFigures gathers the errors since a time from the three places they are kept:
// failed request-log rows (engine requests), incidents whose request has no failed
// row (5xx answers outside the engine), and client_errors (4xx answers of requests
// without a row). Cancels (status 499) are counted apart and are no error.
func (db *DB) ErrorFigures(ctx context.Context, since time.Time, class ErrorClass) (ErrorFigures, error) {
	since = ts(since)
	var out ErrorFigures
	var totals struct {
		Requests  int `db:"requests"`
		Cancelled int `db:"cancelled"`
		Client    int `db:"client"`
		Server    int `db:"server"`
	}
	q := `SELECT COUNT(*) AS requests,
		COALESCE(SUM(CASE WHEN ` + sqlCancelled + ` THEN 1 ELSE 0 END), 0) AS cancelled,
		COALESCE(SUM(CASE WHEN ` + sqlFailed + ` AND ` + sqlClientError + ` THEN 1 ELSE 0 END), 0) AS client,
		COALESCE(SUM(CASE WHEN ` + sqlFailed + ` AND NOT ` + sqlClientError + ` THEN 1 ELSE 0 END), 0) AS server
		FROM request_log WHERE created_at >= ?`
	if err := db.x.GetContext(ctx, &totals, db.x.Rebind(q), since); err != nil {
		return out, wrap("error figures", err)
	}
	out.Requests, out.Cancelled = totals.Requests, totals.Cancelled
	if class.has(ClassClient) {
		out.Failed += totals.Client
	}
	if class.has(ClassServer) {
		out.Failed += totals.Server
	}

	type group struct {
		Code   string  `db:"code"`
		Status int     `db:"status"`
		N      int     `db:"n"`
		First  sqlTime `db:"first"`
		Last   sqlTime `db:"last"`
	}
	sources := []struct{ name, sql string }{
		{"request_log", `SELECT error_code AS code, CASE WHEN error_code = '' THEN status ELSE 0 END AS status,
			COUNT(*) AS n, MIN(created_at) AS first, MAX(created_at) AS last
			FROM request_log WHERE created_at >= ? AND ` + sqlFailed + `
			GROUP BY error_code, CASE WHEN error_code = '' THEN status ELSE 0 END`},
		{"incidents", `SELECT code, 0 AS status, COUNT(*) AS n, MIN(created_at) AS first, MAX(created_at) AS last
			FROM incidents WHERE created_at >= ? AND (request_id = '' OR request_id NOT IN (
				SELECT request_id FROM request_log WHERE created_at >= ? AND request_id <> '' AND ` + sqlFailed + `))
			GROUP BY code`},
		{"client_errors", `SELECT code, 0 AS status, SUM(answers) AS n, MIN(minute) AS first, MAX(minute) AS last
			FROM client_errors WHERE minute >= ? GROUP BY code`},
	}
	for _, src := range sources {
		var groups []group
		args := []any{since}
		if strings.Count(src.sql, "?") == 2 {
			args = append(args, since)
		}
		if err := db.x.SelectContext(ctx, &groups, db.x.Rebind(src.sql), args...); err != nil {
			return out, wrap("error figures: "+src.name, err)
		}
		for _, g := range groups {
			c := codeClass(g.Code)
			if g.Code == "" && g.Status < 500 {
				c = ClassClient
			}
			if src.name != "request_log" { // the request log's are in totals
				if c == ClassClient {
					out.ClientErrors += g.N
				} else {
					out.ServerErrors += g.N
				}
			}
			if class.has(c) {
				out.Codes = append(out.Codes, ErrorCodeCount{Code: g.Code, Status: g.Status, Class: c, Count: g.N,
					First: g.First.T, Last: g.Last.T, Source: src.name})
			}
		}
	}
	out.ClientErrors += totals.Client
	out.ServerErrors += totals.Server
	return out, nil
}
