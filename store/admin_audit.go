package store

import (
	"context"
	"strings"
	"time"
)

// AuditEntry is one row of admin_audit: an action of an admin (the console's sign-ins,
// key, user, incident, upstream and cache changes), who did it and from where.
type AuditEntry struct {
	ID        int64     `db:"id"`
	CreatedAt time.Time `db:"created_at"`
	ActorID   int64     `db:"actor_id"`
	Actor     string    `db:"actor"`  // the admin's e-mail when it was done
	Action    string    `db:"action"` // e.g. "key.revoke" (admin/audit.go lists them)
	Target    string    `db:"target"` // "<kind>:<id>", e.g. "key:12", "user:5"
	Detail    string    `db:"detail"`
	IP        string    `db:"ip"`
}

// AuditFilter selects audit entries: newest first, before Before, optionally of one
// actor (e-mail, exact), one action (exact, or a prefix ending in "." such as "key.")
// and one target, at most Limit (default 50).
type AuditFilter struct {
	Actor  string
	Action string
	Target string
	Before Cursor
	Limit  int
}

// AuditLog is the accessor of the admin_audit table.
type AuditLog struct{ db *DB }

// AuditLog returns the admin_audit accessor.
func (db *DB) AuditLog() *AuditLog { return &AuditLog{db: db} }

const auditColumns = `id, created_at, actor_id, actor, action, target, detail, ip`

// Add records e; a zero CreatedAt means now.
func (s *AuditLog) Add(ctx context.Context, e AuditEntry) error {
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.db.now()
	}
	q := s.db.x.Rebind(`INSERT INTO admin_audit (created_at, actor_id, actor, action, target, detail, ip)
		VALUES (?, ?, ?, ?, ?, ?, ?)`)
	_, err := s.db.x.ExecContext(ctx, q, ts(e.CreatedAt), e.ActorID, e.Actor, e.Action, e.Target, e.Detail, e.IP)
	return wrap("add audit entry", err)
}

// List returns one page of entries matching f, newest first.
func (s *AuditLog) List(ctx context.Context, f AuditFilter) ([]AuditEntry, error) {
	var where []string
	var args []any
	if f.Actor != "" {
		where, args = append(where, `actor = ?`), append(args, f.Actor)
	}
	switch {
	case strings.HasSuffix(f.Action, "."):
		where, args = append(where, `action LIKE ? ESCAPE '\'`), append(args, likePrefix(f.Action))
	case f.Action != "":
		where, args = append(where, `action = ?`), append(args, f.Action)
	}
	if f.Target != "" {
		where, args = append(where, `target = ?`), append(args, f.Target)
	}
	if c, a := f.Before.before("created_at", "id"); c != "" {
		where, args = append(where, c), append(args, a...)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q := `SELECT ` + auditColumns + ` FROM admin_audit`
	if len(where) > 0 {
		q += ` WHERE ` + strings.Join(where, ` AND `)
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	out := []AuditEntry{}
	return out, wrap("list audit entries", s.db.x.SelectContext(ctx, &out, s.db.x.Rebind(q), append(args, f.Limit)...))
}

// Actors returns the distinct actors on record, sorted (the audit page's filter).
func (s *AuditLog) Actors(ctx context.Context) ([]string, error) {
	out := []string{}
	return out, wrap("audit actors", s.db.x.SelectContext(ctx, &out, `SELECT DISTINCT actor FROM admin_audit ORDER BY actor`))
}

// DeleteOlderThan removes entries created before t (ERROR_RETENTION_DAYS, like
// incidents) and returns how many.
func (s *AuditLog) DeleteOlderThan(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.x.ExecContext(ctx, s.db.x.Rebind(`DELETE FROM admin_audit WHERE created_at < ?`), ts(t))
	if err != nil {
		return 0, wrap("prune audit log", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("prune audit log", err)
}

// likePrefix turns text into a LIKE prefix pattern with % and _ escaped by backslash.
func likePrefix(s string) string {
	r := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)
	return r.Replace(s) + "%"
}
