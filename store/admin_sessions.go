package store

import (
	"context"
	"time"
)

// AdminSession is one row of admin_sessions. ID is the SHA-256 of the
// session cookie's token, so a leaked table does not leak live sessions.
type AdminSession struct {
	ID         string    `db:"id"`
	UserID     int64     `db:"user_id"`
	CreatedAt  time.Time `db:"created_at"`
	LastSeenAt time.Time `db:"last_seen_at"`
	ExpiresAt  time.Time `db:"expires_at"`
	UserAgent  string    `db:"user_agent"`
	IP         string    `db:"ip"`
}

// AdminSessions is the accessor of the admin_sessions table.
type AdminSessions struct{ db *DB }

// AdminSessions returns the admin_sessions accessor.
func (db *DB) AdminSessions() *AdminSessions { return &AdminSessions{db: db} }

const adminSessionColumns = `id, user_id, created_at, last_seen_at, expires_at, user_agent, ip`

// Create stores s; CreatedAt and LastSeenAt default to now.
func (s *AdminSessions) Create(ctx context.Context, in AdminSession) (AdminSession, error) {
	now := s.db.nowUTC()
	in.CreatedAt, in.LastSeenAt, in.ExpiresAt = now, now, ts(in.ExpiresAt)
	q := s.db.x.Rebind(`INSERT INTO admin_sessions (` + adminSessionColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?)`)
	_, err := s.db.x.ExecContext(ctx, q, in.ID, in.UserID, in.CreatedAt, in.LastSeenAt, in.ExpiresAt, in.UserAgent, in.IP)
	return in, wrap("create admin session", err)
}

// Get returns the session with id that has not expired, or ErrNotFound.
func (s *AdminSessions) Get(ctx context.Context, id string) (AdminSession, error) {
	var out AdminSession
	q := s.db.x.Rebind(`SELECT ` + adminSessionColumns + ` FROM admin_sessions WHERE id = ? AND expires_at > ?`)
	return out, wrap("get admin session", s.db.x.GetContext(ctx, &out, q, id, s.db.nowUTC()))
}

// Touch records activity now and moves the expiry to expiresAt (sliding
// sessions); ErrNotFound if the session is gone.
func (s *AdminSessions) Touch(ctx context.Context, id string, expiresAt time.Time) error {
	q := s.db.x.Rebind(`UPDATE admin_sessions SET last_seen_at = ?, expires_at = ? WHERE id = ?`)
	res, err := s.db.x.ExecContext(ctx, q, s.db.nowUTC(), ts(expiresAt), id)
	if err == nil {
		err = affected(res)
	}
	return wrap("touch admin session", err)
}

// Delete removes the session (logout); deleting a missing one is not an error.
func (s *AdminSessions) Delete(ctx context.Context, id string) error {
	_, err := s.db.x.ExecContext(ctx, s.db.x.Rebind(`DELETE FROM admin_sessions WHERE id = ?`), id)
	return wrap("delete admin session", err)
}

// DeleteExpired removes sessions expired by now and returns how many.
func (s *AdminSessions) DeleteExpired(ctx context.Context) (int64, error) {
	res, err := s.db.x.ExecContext(ctx, s.db.x.Rebind(`DELETE FROM admin_sessions WHERE expires_at <= ?`), s.db.nowUTC())
	if err != nil {
		return 0, wrap("delete expired admin sessions", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("delete expired admin sessions", err)
}
