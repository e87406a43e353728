package store

import (
	"context"
	"database/sql"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// RequestLogRow is one finished request.
type RequestLogRow struct {
	ID        int64     `db:"id"`
	CreatedAt time.Time `db:"created_at"`
	RequestID string    `db:"request_id"`
	KeyID     *int64    `db:"key_id"`
	UserID    *int64    `db:"user_id"`
	Route     string    `db:"route"`
	Kind      string    `db:"kind"`
	Adapter   string    `db:"adapter"`
	TokensIn  int       `db:"tokens_in"`  // delivered to the caller (prompt)
	TokensOut int       `db:"tokens_out"` // delivered to the caller (completion)
	// UpstreamIn and UpstreamOut are the model tokens this request is charged for: the
	// tokens above for the request that ran the generation, 0 for a cache hit or a
	// coalesced joiner (docs/operations.md, "Token accounting").
	UpstreamIn  int     `db:"upstream_tokens_in"`
	UpstreamOut int     `db:"upstream_tokens_out"`
	TTFTMs      float64 `db:"ttft_ms"`
	LatencyMs   float64 `db:"latency_ms"`
	Cached      bool    `db:"cached"`
	Coalesced   bool    `db:"coalesced"`
	Status      int     `db:"status"`
	ErrorCode   string  `db:"error_code"`
	// Upstream is the base URL of the vLLM replica that served the generation; "" for
	// a cache hit or a request that reached none.
	Upstream string `db:"upstream"`

	// QuotaSettled marks a row whose tokens were charged to the key's quota when the
	// request ended (not stored).
	QuotaSettled bool `db:"-"`
}

// RequestLog is the accessor of the request_log table.
type RequestLog struct{ db *DB }

// RequestLog returns the request_log accessor.
func (db *DB) RequestLog() *RequestLog { return &RequestLog{db: db} }

const requestLogColumns = `created_at, request_id, key_id, user_id, route, kind, adapter, tokens_in, tokens_out,
	upstream_tokens_in, upstream_tokens_out, ttft_ms, latency_ms, cached, coalesced, status, error_code, upstream`

// requestLogParams is the number of columns an inserted row binds.
const requestLogParams = 18

// logBatch rows per INSERT statement (requestLogParams parameters each): the engine's
// batch, so a busy gateway's batches are one prepared statement each.
const logBatch = 256

// InsertBatch writes rows in one transaction with multi-row INSERTs, and adds them to
// the hourly usage rollups (usage_rollup.go) in the same transaction. A zero
// CreatedAt means now. On SQLite a full INSERT of logBatch rows is prepared once per
// DB (the SQL is not parsed again for every batch); a shorter rest, and every batch on
// PostgreSQL, is sent as text. PostgreSQL gets no statement prepared across
// transactions, so that it works behind PgBouncer in transaction pooling mode (a
// transaction may run on another server connection than the statement was prepared
// on; docs/operations.md, "PostgreSQL through PgBouncer").
func (s *RequestLog) InsertBatch(ctx context.Context, rows []RequestLogRow) error {
	if len(rows) == 0 {
		return nil
	}
	usage, err := s.usageUpserts(ctx)
	if err != nil {
		return wrap("insert request log", err)
	}
	var full *sql.Stmt
	if len(rows) >= logBatch && s.db.dialect == SQLite {
		var err error // prepared before the transaction: on a one-connection pool
		// (SQLite :memory:) the transaction holds the only connection
		if full, err = s.fullInsert(ctx); err != nil {
			return wrap("insert request log", err)
		}
	}
	now := s.db.nowUTC()
	err = s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		args := make([]any, 0, requestLogParams*min(len(rows), logBatch))
		for start := 0; start < len(rows); start += logBatch {
			chunk := rows[start:min(start+logBatch, len(rows))]
			args = args[:0]
			for _, r := range chunk {
				at := now
				if !r.CreatedAt.IsZero() {
					at = ts(r.CreatedAt)
				}
				args = append(args, at, r.RequestID, r.KeyID, r.UserID, r.Route, r.Kind, r.Adapter, r.TokensIn,
					r.TokensOut, r.UpstreamIn, r.UpstreamOut, r.TTFTMs, r.LatencyMs, r.Cached, r.Coalesced, r.Status, r.ErrorCode, r.Upstream)
			}
			var err error
			if full != nil && len(chunk) == logBatch {
				_, err = tx.StmtContext(ctx, full).ExecContext(ctx, args...)
			} else {
				_, err = tx.ExecContext(ctx, tx.Rebind(insertSQL(len(chunk))), args...)
			}
			if err != nil {
				return err
			}
		}
		return s.rollup(ctx, tx, usage, rows, func(r RequestLogRow) int64 {
			if r.CreatedAt.IsZero() {
				return now.Unix() / 3600
			}
			return r.CreatedAt.Unix() / 3600
		})
	})
	return wrap("insert request log", err)
}

// rowPlaceholders binds one row's requestLogParams columns.
var rowPlaceholders = "(" + strings.Repeat("?, ", requestLogParams-1) + "?)"

// insertSQL is the INSERT of n request-log rows.
func insertSQL(n int) string {
	var b strings.Builder
	b.WriteString(`INSERT INTO request_log (` + requestLogColumns + `) VALUES `)
	for i := range n {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(rowPlaceholders)
	}
	return b.String()
}

// fullInsert returns the DB's prepared INSERT of logBatch rows.
func (s *RequestLog) fullInsert(ctx context.Context) (*sql.Stmt, error) {
	s.db.logMu.Lock()
	defer s.db.logMu.Unlock()
	if s.db.logInsert == nil {
		st, err := s.db.x.PrepareContext(ctx, s.db.x.Rebind(insertSQL(logBatch)))
		if err != nil {
			return nil, err
		}
		s.db.logInsert = st
	}
	return s.db.logInsert, nil
}

// Since returns rows created at or after since, oldest first, optionally only
// of one adapter ("" = all), at most limit (≤ 0: no limit).
func (s *RequestLog) Since(ctx context.Context, since time.Time, adapter string, limit int) ([]RequestLogRow, error) {
	q := `SELECT id, ` + requestLogColumns + ` FROM request_log WHERE created_at >= ?`
	args := []any{ts(since)}
	if adapter != "" {
		q, args = q+` AND adapter = ?`, append(args, adapter)
	}
	q += ` ORDER BY created_at, id`
	if limit > 0 {
		q, args = q+` LIMIT ?`, append(args, limit)
	}
	rows := []RequestLogRow{}
	return rows, wrap("request log since", s.db.x.SelectContext(ctx, &rows, s.db.x.Rebind(q), args...))
}

// Count returns the number of rows created at or after since.
func (s *RequestLog) Count(ctx context.Context, since time.Time) (int, error) {
	var n int
	q := s.db.x.Rebind(`SELECT COUNT(*) FROM request_log WHERE created_at >= ?`)
	return n, wrap("count request log", s.db.x.GetContext(ctx, &n, q, ts(since)))
}

// DeleteOlderThan removes rows created before t and returns how many, and the usage
// rollups' hours and days that ended before t (the hour and day t falls in stay whole).
func (s *RequestLog) DeleteOlderThan(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.x.ExecContext(ctx, s.db.x.Rebind(`DELETE FROM request_log WHERE created_at < ?`), ts(t))
	if err != nil {
		return 0, wrap("prune request log", err)
	}
	for _, p := range []struct {
		table string
		cut   int64
	}{{"usage_hourly WHERE hour", t.Unix() / 3600}, {"usage_hourly_keys WHERE hour", t.Unix() / 3600}, {"usage_daily_keys WHERE day", t.Unix() / 86400}} {
		if _, err := s.db.x.ExecContext(ctx, s.db.x.Rebind(`DELETE FROM `+p.table+` < ?`), p.cut); err != nil {
			return 0, wrap("prune usage", err)
		}
	}
	n, err := res.RowsAffected()
	return n, wrap("prune request log", err)
}

// InsertMissing writes the rows that are not stored yet and returns them: a row counts
// as stored when one with its request id, route and creation time exists. The request
// log's writer uses it for rows a failed write may have committed after all (its
// connection lost during COMMIT) and for the spool, so a retry stores no row twice
// (docs/operations.md, "Failure modes"). Rows without a request id are always written.
func (s *RequestLog) InsertMissing(ctx context.Context, rows []RequestLogRow) ([]RequestLogRow, error) {
	if len(rows) == 0 {
		return nil, nil
	}
	type ident struct {
		id, route string
		at        int64
	}
	var ids []any
	lo, hi := time.Time{}, time.Time{}
	for _, r := range rows {
		if r.RequestID == "" || r.CreatedAt.IsZero() {
			continue
		}
		at := ts(r.CreatedAt)
		if lo.IsZero() || at.Before(lo) {
			lo = at
		}
		if at.After(hi) {
			hi = at
		}
		ids = append(ids, r.RequestID)
	}
	have := map[ident]bool{}
	for start := 0; start < len(ids); start += 500 {
		chunk := ids[start:min(start+500, len(ids))]
		q := `SELECT request_id, route, created_at FROM request_log WHERE created_at >= ? AND created_at <= ? AND request_id IN (?` +
			strings.Repeat(", ?", len(chunk)-1) + `)`
		var found []struct {
			RequestID string    `db:"request_id"`
			Route     string    `db:"route"`
			CreatedAt time.Time `db:"created_at"`
		}
		if err := s.db.x.SelectContext(ctx, &found, s.db.x.Rebind(q), append([]any{lo, hi}, chunk...)...); err != nil {
			return nil, wrap("request log retry", err)
		}
		for _, f := range found {
			have[ident{f.RequestID, f.Route, ts(f.CreatedAt).UnixMilli()}] = true
		}
	}
	missing := rows[:0:0]
	for _, r := range rows {
		if r.RequestID == "" || r.CreatedAt.IsZero() || !have[ident{r.RequestID, r.Route, ts(r.CreatedAt).UnixMilli()}] {
			missing = append(missing, r)
		}
	}
	return missing, s.InsertBatch(ctx, missing)
}

// InsertRetry is InsertMissing for the request log's writer.
func (s *RequestLog) InsertRetry(ctx context.Context, rows []RequestLogRow) error {
	_, err := s.InsertMissing(ctx, rows)
	return err
}
