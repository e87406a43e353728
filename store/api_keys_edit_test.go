package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestAPIKeyUpdate(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		_, k, err := db.APIKeys().Create(ctx, NewKey{Name: "a", Scopes: Scopes{ScopeHistory}})
		mustNoErr(t, err)
		exp := time.Date(2027, 2, 3, 0, 0, 0, 0, time.UTC)
		got, err := db.APIKeys().Update(ctx, k.ID, KeyEdit{Name: "b", Scopes: Scopes{ScopeCodeCompletion, ScopeAdmin},
			ExpiresAt: &exp, TokensPerMinute: 10, TokensPerDay: 20})
		mustNoErr(t, err)
		if got.Name != "b" || len(got.Scopes) != 2 || got.ExpiresAt == nil || !got.ExpiresAt.Equal(exp) ||
			got.TokensPerMinute != 10 || got.TokensPerDay != 20 || got.KeyHash != k.KeyHash || got.Prefix != k.Prefix {
			t.Fatalf("updated %+v", got)
		}
		got, err = db.APIKeys().Update(ctx, k.ID, KeyEdit{Name: "b", Scopes: Scopes{ScopeHistory}})
		mustNoErr(t, err)
		if got.ExpiresAt != nil {
			t.Fatalf("expiry not cleared: %v", got.ExpiresAt)
		}
		if _, err := db.APIKeys().Update(ctx, 999, KeyEdit{}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("unknown key: %v", err)
		}
		mustNoErr(t, db.APIKeys().Revoke(ctx, k.ID))
		if _, err := db.APIKeys().Update(ctx, k.ID, KeyEdit{Scopes: Scopes{ScopeHistory}}); !errors.Is(err, ErrConflict) {
			t.Fatalf("revoked key: %v", err)
		}
	})
}
