package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// KeyEdit is what an admin may change on a key: its name, scopes, expiry (nil: never)
// and token quotas (0: unlimited). The hash, owner and creation time never change.
type KeyEdit struct {
	Name            string
	Scopes          Scopes
	ExpiresAt       *time.Time
	TokensPerMinute int
	TokensPerDay    int
}

// Update applies e to key id and returns the key as stored. A revoked key cannot be
// edited (ErrConflict); an unknown one is ErrNotFound. Replicas pick the change up when
// their cached lookup of the key expires (API_KEY_CACHE_TTL).
func (s *APIKeys) Update(ctx context.Context, id int64, e KeyEdit) (APIKey, error) {
	var k APIKey
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		old, err := s.byID(ctx, tx, id)
		if err != nil {
			return err
		}
		if old.RevokedAt != nil {
			return fmt.Errorf("key %d is revoked: %w", id, ErrConflict)
		}
		_, err = tx.ExecContext(ctx, tx.Rebind(`UPDATE api_keys SET name = ?, scopes = ?, expires_at = ?,
			tokens_per_minute = ?, tokens_per_day = ? WHERE id = ?`),
			e.Name, e.Scopes, tsPtr(e.ExpiresAt), e.TokensPerMinute, e.TokensPerDay, id)
		if err != nil {
			return err
		}
		k, err = s.byID(ctx, tx, id)
		return err
	})
	return k, wrap("update key", err)
}

// AdoptOrphan gives key id, when it has no owner, to userID; a key with an owner is
// left alone.
func (s *APIKeys) AdoptOrphan(ctx context.Context, id, userID int64) error {
	_, err := s.db.x.ExecContext(ctx, s.db.x.Rebind(`UPDATE api_keys SET user_id = ? WHERE id = ? AND user_id IS NULL`), userID, id)
	return wrap("adopt key", err)
}
