package auth

import (
	"context"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hapa-project/hapa/store"
)

// TestKeysRunFlushesPeriodically runs the flush loop on synctest's
// fake clock: last_used_at appears after one FlushInterval, not before.
func TestKeysRunFlushesPeriodically(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		ctx := context.Background()
		db, err := store.Open(ctx, "sqlite://:memory:")
		mustNoErr(t, err)
		defer db.Close()
		_, err = db.Migrate(ctx)
		mustNoErr(t, err)
		plain, k, err := db.APIKeys().Create(ctx, store.NewKey{Name: "tick"})
		mustNoErr(t, err)
		a := NewKeys(db.APIKeys(), time.Minute, nil)
		a.FlushInterval = 30 * time.Second
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error)
		go func() { done <- a.Run(rctx) }()

		_, err = a.Lookup(ctx, plain)
		mustNoErr(t, err)
		used := time.Now()
		lastUsed := func() *time.Time {
			t.Helper()
			synctest.Wait()
			got, err := db.APIKeys().ByID(ctx, k.ID)
			mustNoErr(t, err)
			return got.LastUsedAt
		}
		time.Sleep(29 * time.Second)
		if v := lastUsed(); v != nil {
			t.Fatalf("flushed early: %v", v)
		}
		time.Sleep(2 * time.Second)
		if v := lastUsed(); v == nil || !v.Equal(used.UTC().Truncate(time.Millisecond)) {
			t.Fatalf("after one interval last_used_at = %v, want %v", v, used.UTC().Truncate(time.Millisecond))
		}
		cancel()
		mustNoErr(t, <-done)
	})
}
