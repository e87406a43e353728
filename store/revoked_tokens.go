package store

import (
	"context"
	"time"
)

// RevokedToken is one row of revoked_tokens: a logged-out JWT id (jti) or login
// session id (sid), refused by every replica until it expires.
type RevokedToken struct {
	ID        string    `db:"jti"`
	UserID    int64     `db:"user_id"`
	ExpiresAt time.Time `db:"expires_at"`
	RevokedAt time.Time `db:"revoked_at"`
}

// RevokedTokens is the accessor of the revoked_tokens table.
type RevokedTokens struct{ db *DB }

// RevokedTokens returns the revoked_tokens accessor.
func (db *DB) RevokedTokens() *RevokedTokens { return &RevokedTokens{db: db} }

// Add records id as revoked until expires; adding it again keeps the later expiry.
func (s *RevokedTokens) Add(ctx context.Context, id string, userID int64, expires time.Time) error {
	q := s.db.x.Rebind(`INSERT INTO revoked_tokens (jti, user_id, expires_at, revoked_at) VALUES (?, ?, ?, ?)
		ON CONFLICT (jti) DO UPDATE SET expires_at = CASE WHEN excluded.expires_at > revoked_tokens.expires_at
			THEN excluded.expires_at ELSE revoked_tokens.expires_at END, revoked_at = excluded.revoked_at`)
	_, err := s.db.x.ExecContext(ctx, q, id, userID, ts(expires), s.db.nowUTC())
	return wrap("revoke token", err)
}

// Since returns the unexpired rows revoked at or after since (all unexpired ones for
// a zero since), oldest first.
func (s *RevokedTokens) Since(ctx context.Context, since time.Time) ([]RevokedToken, error) {
	rows := []RevokedToken{}
	q := s.db.x.Rebind(`SELECT jti, user_id, expires_at, revoked_at FROM revoked_tokens
		WHERE revoked_at >= ? AND expires_at > ? ORDER BY revoked_at`)
	return rows, wrap("revoked tokens since", s.db.x.SelectContext(ctx, &rows, q, ts(since), s.db.nowUTC()))
}

// DeleteExpired removes the rows whose tokens have expired (they are refused anyway).
func (s *RevokedTokens) DeleteExpired(ctx context.Context) (int64, error) {
	res, err := s.db.x.ExecContext(ctx, s.db.x.Rebind(`DELETE FROM revoked_tokens WHERE expires_at <= ?`), s.db.nowUTC())
	if err != nil {
		return 0, wrap("prune revoked tokens", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("prune revoked tokens", err)
}
