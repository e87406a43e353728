package store

import (
	"context"
	"time"

	"github.com/jmoiron/sqlx"
)

// ClientErrorCount is how many client errors of one code were answered in one UTC
// minute.
type ClientErrorCount struct {
	Minute time.Time `db:"minute"`
	Code   string    `db:"code"`
	Count  int64     `db:"answers"`
}

// ClientErrors is the accessor of the client_errors table: per-minute counts of the
// 4xx answers of requests that have no request-log row, written by every replica.
type ClientErrors struct{ db *DB }

// ClientErrors returns the client_errors accessor.
func (db *DB) ClientErrors() *ClientErrors { return &ClientErrors{db: db} }

// Add adds counts (their minutes truncated to the minute, UTC) in one transaction; a
// minute and code already on record is incremented, so replicas add to one row.
func (s *ClientErrors) Add(ctx context.Context, counts []ClientErrorCount) error {
	if len(counts) == 0 {
		return nil
	}
	q := s.db.x.Rebind(`INSERT INTO client_errors (minute, code, answers) VALUES (?, ?, ?)
		ON CONFLICT (minute, code) DO UPDATE SET answers = client_errors.answers + excluded.answers`)
	return wrap("add client errors", s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		for _, c := range counts {
			if _, err := tx.ExecContext(ctx, q, ts(c.Minute.Truncate(time.Minute)), c.Code, c.Count); err != nil {
				return err
			}
		}
		return nil
	}))
}

// Since returns the counts of minutes at or after since, oldest first.
func (s *ClientErrors) Since(ctx context.Context, since time.Time) ([]ClientErrorCount, error) {
	rows := []ClientErrorCount{}
	q := s.db.x.Rebind(`SELECT minute, code, answers FROM client_errors WHERE minute >= ? ORDER BY minute, code`)
	return rows, wrap("client errors since", s.db.x.SelectContext(ctx, &rows, q, ts(since)))
}

// DeleteOlderThan removes the minutes before t (ERROR_RETENTION_DAYS) and returns how
// many rows went.
func (s *ClientErrors) DeleteOlderThan(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.x.ExecContext(ctx, s.db.x.Rebind(`DELETE FROM client_errors WHERE minute < ?`), ts(t))
	if err != nil {
		return 0, wrap("prune client errors", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("prune client errors", err)
}
