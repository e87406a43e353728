package store

import (
	"context"
	"strings"
	"time"
)

// Status classes of the request-log filter. A row is in exactly one: cancelled
// (status 499), failed as a client error (4xx) or a server error (5xx) — the errors
// dashboard's classes (sqlFailed, sqlClientError) — or ok.
const (
	RequestsOK        = "ok"
	RequestsCancelled = "cancelled"
	Requests4xx       = "4xx"
	Requests5xx       = "5xx"
	// RequestsFailed is 4xx and 5xx together.
	RequestsFailed = "failed"
)

// RequestFilter selects request-log rows for the console's request log: created in
// [Since, Until) (zero: unbounded), and every non-zero field matching. Rows come newest
// first, before Before, at most Limit (default 50).
type RequestFilter struct {
	Since, Until time.Time
	KeyID        int64
	UserID       int64
	Route        string
	Adapter      string
	Upstream     string
	Status       int    // exact HTTP status
	Class        string // RequestsOK, RequestsCancelled, Requests4xx or Requests5xx
	ErrorCode    string
	Cached       *bool
	Coalesced    *bool
	RequestID    string
	Before       Cursor
	Limit        int
}

func (f RequestFilter) where() (string, []any) {
	var w []string
	var args []any
	add := func(cond string, a ...any) { w, args = append(w, cond), append(args, a...) }
	if !f.Since.IsZero() {
		add(`created_at >= ?`, ts(f.Since))
	}
	if !f.Until.IsZero() {
		add(`created_at < ?`, ts(f.Until))
	}
	if f.KeyID != 0 {
		add(`key_id = ?`, f.KeyID)
	}
	if f.UserID != 0 {
		add(`user_id = ?`, f.UserID)
	}
	if f.Route != "" {
		add(`route = ?`, f.Route)
	}
	if f.Adapter != "" {
		add(`adapter = ?`, f.Adapter)
	}
	if f.Upstream != "" {
		add(`upstream = ?`, f.Upstream)
	}
	if f.Status != 0 {
		add(`status = ?`, f.Status)
	}
	switch f.Class {
	case RequestsOK:
		add(`NOT ` + sqlFailed + ` AND NOT (` + sqlCancelled + `)`)
	case RequestsCancelled:
		add(sqlCancelled)
	case Requests4xx:
		add(sqlFailed + ` AND ` + sqlClientError)
	case Requests5xx:
		add(sqlFailed + ` AND NOT ` + sqlClientError)
	case RequestsFailed:
		add(sqlFailed)
	}
	if f.ErrorCode != "" {
		add(`error_code = ?`, f.ErrorCode)
	}
	if f.Cached != nil {
		add(`cached = ?`, *f.Cached)
	}
	if f.Coalesced != nil {
		add(`coalesced = ?`, *f.Coalesced)
	}
	if f.RequestID != "" {
		add(`request_id = ?`, f.RequestID)
	}
	if c, a := f.Before.before("created_at", "id"); c != "" {
		add(c, a...)
	}
	if len(w) == 0 {
		return "", nil
	}
	return ` WHERE ` + strings.Join(w, ` AND `), args
}

// List returns one page of rows matching f, newest first (keyset pagination on
// created_at and id; the indexes on created_at, (key_id, created_at), (user_id,
// created_at) and request_id serve the filters).
func (s *RequestLog) List(ctx context.Context, f RequestFilter) ([]RequestLogRow, error) {
	if f.Limit <= 0 {
		f.Limit = 50
	}
	where, args := f.where()
	q := `SELECT id, ` + requestLogColumns + ` FROM request_log` + where + ` ORDER BY created_at DESC, id DESC LIMIT ?`
	rows := []RequestLogRow{}
	return rows, wrap("list request log", s.db.x.SelectContext(ctx, &rows, s.db.x.Rebind(q), append(args, f.Limit)...))
}

// ByID returns the row with id, or ErrNotFound.
func (s *RequestLog) ByID(ctx context.Context, id int64) (RequestLogRow, error) {
	var r RequestLogRow
	q := s.db.x.Rebind(`SELECT id, ` + requestLogColumns + ` FROM request_log WHERE id = ?`)
	return r, wrap("request log row", s.db.x.GetContext(ctx, &r, q, id))
}

// ByRequestID returns the rows of one request id (one per subscription; usually one),
// oldest first.
func (s *RequestLog) ByRequestID(ctx context.Context, requestID string) ([]RequestLogRow, error) {
	rows := []RequestLogRow{}
	q := s.db.x.Rebind(`SELECT id, ` + requestLogColumns + ` FROM request_log WHERE request_id = ? ORDER BY created_at, id LIMIT 20`)
	return rows, wrap("request log by request id", s.db.x.SelectContext(ctx, &rows, q, requestID))
}
