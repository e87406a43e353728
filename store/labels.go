package store

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// KeyLabel is how lists name a key: its display prefix and its owner's e-mail.
type KeyLabel struct {
	ID     int64  `db:"id"`
	Prefix string `db:"prefix"`
	Name   string `db:"name"`
	Owner  string `db:"owner_email"`
}

// Labels returns the labels of the keys with these ids (unknown ids are left out), in
// one query.
func (s *APIKeys) Labels(ctx context.Context, ids []int64) (map[int64]KeyLabel, error) {
	out := map[int64]KeyLabel{}
	var rows []KeyLabel
	if err := selectIn(ctx, s.db, &rows, `SELECT k.id, k.prefix, k.name, COALESCE(u.email, '') AS owner_email`+keyFrom+
		` WHERE k.id IN (?)`, ids); err != nil {
		return out, wrap("key labels", err)
	}
	for _, r := range rows {
		out[r.ID] = r
	}
	return out, nil
}

// Emails returns the e-mails of the users with these ids (unknown ids are left out).
func (s *Users) Emails(ctx context.Context, ids []int64) (map[int64]string, error) {
	out := map[int64]string{}
	var rows []struct {
		ID    int64  `db:"id"`
		Email string `db:"email"`
	}
	if err := selectIn(ctx, s.db, &rows, `SELECT id, email FROM users WHERE id IN (?)`, ids); err != nil {
		return out, wrap("user e-mails", err)
	}
	for _, r := range rows {
		out[r.ID] = r.Email
	}
	return out, nil
}

// selectIn runs q, whose one "IN (?)" takes the distinct non-zero ids, at most 500.
func selectIn(ctx context.Context, db *DB, dest any, q string, ids []int64) error {
	uniq := slices.Compact(slices.Sorted(slices.Values(slices.DeleteFunc(slices.Clone(ids), func(id int64) bool { return id == 0 }))))
	if len(uniq) == 0 {
		return nil
	}
	uniq = uniq[:min(len(uniq), 500)]
	q, args, err := sqlx.In(q, uniq)
	if err != nil {
		return err
	}
	if !strings.Contains(q, "?") {
		return nil
	}
	return db.x.SelectContext(ctx, dest, db.x.Rebind(q), args...)
}

// LastRequests returns the time of each key's newest request-log row (keys without one
// are left out). The request log is written within about a second, while a key's
// last_used_at is flushed every 30 s; the console shows the later of the two. One
// statement whose per-key MAX is one index seek on (key_id, created_at).
func (s *RequestLog) LastRequests(ctx context.Context, keyIDs []int64) (map[int64]time.Time, error) {
	out := map[int64]time.Time{}
	ids := slices.Compact(slices.Sorted(slices.Values(slices.DeleteFunc(slices.Clone(keyIDs), func(id int64) bool { return id == 0 }))))
	if len(ids) == 0 {
		return out, nil
	}
	ids = ids[:min(len(ids), 200)]
	parts := make([]string, len(ids))
	args := make([]any, 0, 2*len(ids))
	for i, id := range ids {
		parts[i] = `SELECT CAST(? AS BIGINT) AS k, (SELECT MAX(created_at) FROM request_log WHERE key_id = ?) AS t`
		args = append(args, id, id)
	}
	var rows []struct {
		K int64   `db:"k"`
		T sqlTime `db:"t"`
	}
	if err := s.db.x.SelectContext(ctx, &rows, s.db.x.Rebind(strings.Join(parts, ` UNION ALL `)), args...); err != nil {
		return out, wrap("last requests", err)
	}
	for _, r := range rows {
		if !r.T.T.IsZero() {
			out[r.K] = r.T.T
		}
	}
	return out, nil
}
