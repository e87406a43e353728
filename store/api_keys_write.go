package store

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// Revoke marks the key revoked now (keeping an earlier revocation time);
// ErrNotFound when there is no such key.
func (s *APIKeys) Revoke(ctx context.Context, id int64) error {
	return wrap("revoke key", s.revoke(ctx, s.db.x, id))
}

func (s *APIKeys) revoke(ctx context.Context, q sqlx.ExtContext, id int64) error {
	res, err := q.ExecContext(ctx, q.Rebind(`UPDATE api_keys SET revoked_at = COALESCE(revoked_at, ?) WHERE id = ?`),
		s.db.nowUTC(), id)
	if err != nil {
		return err
	}
	return affected(res)
}

// Rotate revokes key id and creates its replacement in one transaction: same
// owner, name, scopes and limits, and the same lifetime counted from now. A
// revoked key cannot be rotated (ErrConflict).
func (s *APIKeys) Rotate(ctx context.Context, id int64) (string, APIKey, error) {
	plain := GenerateKey()
	var nk APIKey
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		old, err := s.byID(ctx, tx, id)
		if err != nil {
			return err
		}
		if old.RevokedAt != nil {
			return fmt.Errorf("key %d is revoked: %w", id, ErrConflict)
		}
		var expires *time.Time
		if old.ExpiresAt != nil {
			e := s.db.nowUTC().Add(old.ExpiresAt.Sub(old.CreatedAt))
			expires = &e
		}
		if err := s.revoke(ctx, tx, id); err != nil {
			return err
		}
		nk, err = s.insert(ctx, tx, plain, NewKey{
			UserID: old.UserID, Name: old.Name, Scopes: old.Scopes, ExpiresAt: expires,
			TokensPerMinute: old.TokensPerMinute, TokensPerDay: old.TokensPerDay,
		})
		return err
	})
	if err != nil {
		return "", APIKey{}, wrap("rotate key", err)
	}
	return plain, nk, nil
}

// CountActive counts the user's keys that are neither revoked nor expired.
func (s *APIKeys) CountActive(ctx context.Context, userID int64) (int, error) {
	var n int
	q := s.db.x.Rebind(`SELECT COUNT(*) FROM api_keys WHERE user_id = ? AND revoked_at IS NULL
		AND (expires_at IS NULL OR expires_at > ?)`)
	return n, wrap("count active keys", s.db.x.GetContext(ctx, &n, q, userID, s.db.nowUTC()))
}

// touchBatch bounds the keys per UPDATE (5 parameters each).
const touchBatch = 300

// TouchLastUsed writes last_used_at for many keys with one UPDATE per 300
// keys, never moving a value backwards (replicas may flush out of order).
func (s *APIKeys) TouchLastUsed(ctx context.Context, used map[int64]time.Time) error {
	ids := make([]int64, 0, len(used))
	for id := range used {
		ids = append(ids, id)
	}
	param := "?"
	if s.db.dialect == Postgres {
		param = "CAST(? AS TIMESTAMPTZ)" // CASE branches are otherwise typed text
	}
	for start := 0; start < len(ids); start += touchBatch {
		chunk := ids[start:min(start+touchBatch, len(ids))]
		// newTime is "CASE id WHEN ? THEN ? … END": each key's new time.
		newTime := "CASE id" + strings.Repeat(" WHEN ? THEN "+param, len(chunk)) + " END"
		var caseArgs, inArgs []any
		for _, id := range chunk {
			caseArgs = append(caseArgs, id, ts(used[id]))
			inArgs = append(inArgs, id)
		}
		stmt := `UPDATE api_keys SET last_used_at = ` + newTime +
			` WHERE id IN (?` + strings.Repeat(", ?", len(chunk)-1) + `)` +
			` AND (last_used_at IS NULL OR last_used_at < ` + newTime + `)`
		args := slices.Concat(caseArgs, inArgs, caseArgs)
		if _, err := s.db.x.ExecContext(ctx, s.db.x.Rebind(stmt), args...); err != nil {
			return wrap("touch last used", err)
		}
	}
	return nil
}

// ErrKeyLimit means the user already holds the most active keys allowed.
var ErrKeyLimit = errors.New("store: active key limit reached")

// CreateForUser is Create for a user who may hold at most limit active keys: the
// count and the insert share one transaction, and the user's row is locked first on
// PostgreSQL (SQLite's write transactions are already serial), so concurrent calls
// cannot pass the limit together. It returns ErrKeyLimit when the user is at it.
func (s *APIKeys) CreateForUser(ctx context.Context, userID int64, limit int, nk NewKey) (string, APIKey, error) {
	plain := GenerateKey()
	nk.UserID = &userID
	var k APIKey
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		if s.db.dialect == Postgres {
			var id int64
			if err := tx.GetContext(ctx, &id, `SELECT id FROM users WHERE id = $1 FOR UPDATE`, userID); err != nil {
				return err
			}
		}
		var n int
		q := tx.Rebind(`SELECT COUNT(*) FROM api_keys WHERE user_id = ? AND revoked_at IS NULL
			AND (expires_at IS NULL OR expires_at > ?)`)
		if err := tx.GetContext(ctx, &n, q, userID, s.db.nowUTC()); err != nil {
			return err
		}
		if n >= limit {
			return ErrKeyLimit
		}
		var err error
		k, err = s.insert(ctx, tx, plain, nk)
		return err
	})
	if errors.Is(err, ErrKeyLimit) {
		return "", APIKey{}, err
	}
	return plain, k, wrap("create key for user", err)
}

// EndedKey is a key that stopped working: revoked, or past its expiry.
type EndedKey struct {
	ID      int64 `db:"id"`
	Revoked bool  `db:"revoked"`
}

// EndedSince returns the keys revoked at or after since, or whose expiry falls between
// since and now: what a replica must stop serving (its open streams and sockets)
// when no Redis event told it.
func (s *APIKeys) EndedSince(ctx context.Context, since time.Time) ([]EndedKey, error) {
	out := []EndedKey{}
	now := s.db.nowUTC()
	q := s.db.x.Rebind(`SELECT id, CASE WHEN revoked_at IS NULL THEN 0 ELSE 1 END AS revoked FROM api_keys
		WHERE revoked_at >= ? OR (expires_at >= ? AND expires_at <= ?)`)
	return out, wrap("ended keys", s.db.x.SelectContext(ctx, &out, q, ts(since), ts(since), now))
}
