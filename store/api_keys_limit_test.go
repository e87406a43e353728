package store

import (
	"context"
	"errors"
	"sync"
	"testing"
)

// TestCreateForUserHoldsTheLimit: concurrent creations for one user never pass the
// active-key limit, on every backend.
func TestCreateForUserHoldsTheLimit(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		u, err := db.Users().Create(ctx, User{Email: "many@example.com"})
		mustNoErr(t, err)
		const limit, tries = 3, 12
		var wg sync.WaitGroup
		var mu sync.Mutex
		made, refused := 0, 0
		for range tries {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, _, err := db.APIKeys().CreateForUser(ctx, u.ID, limit, NewKey{Name: "k", Scopes: Scopes{ScopeHistory}})
				mu.Lock()
				defer mu.Unlock()
				switch {
				case err == nil:
					made++
				case errors.Is(err, ErrKeyLimit):
					refused++
				default:
					t.Errorf("CreateForUser: %v", err)
				}
			}()
		}
		wg.Wait()
		n, err := db.APIKeys().CountActive(ctx, u.ID)
		mustNoErr(t, err)
		if made != limit || refused != tries-limit || n != limit {
			t.Fatalf("made %d, refused %d, active %d; want %d, %d, %d", made, refused, n, limit, tries-limit, limit)
		}
		if _, _, err := db.APIKeys().CreateForUser(ctx, 999999, limit, NewKey{Name: "k"}); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing user: %v", err)
		}
	})
}
