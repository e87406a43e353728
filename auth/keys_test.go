package auth

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
)

func TestKeysLookup(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB, clk *clock) {
		ctx := context.Background()
		ks := db.APIKeys()
		soon := clk.Now().Add(time.Hour)
		good, gk, err := ks.Create(ctx, store.NewKey{Name: "good", Scopes: store.Scopes{store.ScopeCodeCompletion}})
		mustNoErr(t, err)
		expiring, _, err := ks.Create(ctx, store.NewKey{Name: "expiring", ExpiresAt: &soon})
		mustNoErr(t, err)
		doomed, dk, err := ks.Create(ctx, store.NewKey{Name: "doomed"})
		mustNoErr(t, err)
		var revokedIDs []int64
		a := NewKeys(ks, 10*time.Second, clk.Now)
		a.OnRevoke = func(id int64) { revokedIDs = append(revokedIDs, id) }

		check := func(name, key string, want error) {
			t.Helper()
			_, err := a.Lookup(ctx, key)
			if !errors.Is(err, want) {
				t.Errorf("%s: Authenticate = %v, want %v", name, err, want)
			}
		}
		check("good", good, nil)
		check("expiring before expiry", expiring, nil)
		check("doomed before revoke", doomed, nil)
		check("unknown", store.GenerateKey(), ErrKeyUnknown)
		check("not a key", "Bearer xyz", ErrKeyUnknown)
		check("empty", "", ErrKeyUnknown)

		// Revocation through the cache takes effect at once.
		mustNoErr(t, a.Revoke(ctx, dk.ID))
		check("doomed after revoke", doomed, ErrKeyRevoked)
		if len(revokedIDs) != 1 || revokedIDs[0] != dk.ID {
			t.Errorf("OnRevoke calls %v", revokedIDs)
		}
		// Revocation elsewhere shows after the TTL.
		mustNoErr(t, ks.Revoke(ctx, gk.ID))
		check("good, revoked elsewhere, cached", good, nil)
		clk.Add(11 * time.Second)
		check("good after ttl", good, ErrKeyRevoked)
		clk.Add(time.Hour)
		check("expiring after expiry", expiring, ErrKeyExpired)

		// Rotate hands out a working key and kills the old one.
		other, ok, err := ks.Create(ctx, store.NewKey{Name: "rot"})
		mustNoErr(t, err)
		check("before rotate", other, nil)
		fresh, _, err := a.Rotate(ctx, ok.ID)
		mustNoErr(t, err)
		check("old after rotate", other, ErrKeyRevoked)
		check("new after rotate", fresh, nil)
	})
}

func TestKeysBatchLastUsed(t *testing.T) {
	eachDB(t, func(t *testing.T, db *store.DB, clk *clock) {
		ctx := context.Background()
		ks := db.APIKeys()
		plain, k, err := ks.Create(ctx, store.NewKey{Name: "busy"})
		mustNoErr(t, err)
		plain2, k2, err := ks.Create(ctx, store.NewKey{Name: "busy2"})
		mustNoErr(t, err)
		a := NewKeys(ks, time.Minute, clk.Now)
		for range 50 {
			clk.Add(time.Second)
			if _, err := a.Lookup(ctx, plain); err != nil {
				t.Fatal(err)
			}
			if _, err := a.Lookup(ctx, plain2); err != nil {
				t.Fatal(err)
			}
		}
		last := clk.Now()
		for _, id := range []int64{k.ID, k2.ID} {
			got, err := ks.ByID(ctx, id)
			mustNoErr(t, err)
			if got.LastUsedAt != nil {
				t.Fatalf("last_used_at written before Flush: %v", got.LastUsedAt)
			}
		}
		mustNoErr(t, a.Flush(ctx))
		for _, id := range []int64{k.ID, k2.ID} {
			got, err := ks.ByID(ctx, id)
			mustNoErr(t, err)
			if got.LastUsedAt == nil || !got.LastUsedAt.Equal(last) {
				t.Fatalf("key %d last_used_at = %v, want %v", id, got.LastUsedAt, last)
			}
		}
		// An older time never moves the value backwards.
		mustNoErr(t, ks.TouchLastUsed(ctx, map[int64]time.Time{k.ID: last.Add(-time.Hour)}))
		got, err := ks.ByID(ctx, k.ID)
		mustNoErr(t, err)
		if !got.LastUsedAt.Equal(last) {
			t.Fatalf("last_used_at moved back to %v", got.LastUsedAt)
		}
		mustNoErr(t, a.Flush(ctx)) // nothing pending: no-op

		// Run flushes on shutdown.
		rctx, cancel := context.WithCancel(ctx)
		done := make(chan error, 1)
		go func() { done <- a.Run(rctx) }()
		clk.Add(time.Second)
		if _, err := a.Lookup(ctx, plain); err != nil {
			t.Fatal(err)
		}
		cancel()
		mustNoErr(t, <-done)
		got, err = ks.ByID(ctx, k.ID)
		mustNoErr(t, err)
		if !got.LastUsedAt.Equal(clk.Now()) {
			t.Fatalf("Run did not flush on exit: %v", got.LastUsedAt)
		}
	})
}

func TestKeysCacheBounded(t *testing.T) {
	db := storetest.OpenMigrated(t, "sqlite://:memory:")
	a := NewKeys(db.APIKeys(), time.Minute, nil)
	a.MaxEntries = 10
	for range 100 {
		_, _ = a.Lookup(context.Background(), store.GenerateKey())
	}
	if n := len(a.cache); n > 10 {
		t.Fatalf("cache holds %d entries, max 10", n)
	}
}

func BenchmarkKeysLookupCached(b *testing.B) {
	db, err := store.Open(context.Background(), "sqlite://:memory:")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	plain, _, err := db.APIKeys().Create(context.Background(), store.NewKey{Name: "bench"})
	if err != nil {
		b.Fatal(err)
	}
	a := NewKeys(db.APIKeys(), time.Hour, nil)
	ctx := context.Background()
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := a.Lookup(ctx, plain); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// fakeBreaker is a dependency breaker the test opens and closes.
type fakeBreaker struct{ down, tripped bool }

func (b *fakeBreaker) Allow() bool    { return !b.down }
func (b *fakeBreaker) Trip(err error) { b.down, b.tripped = true, true }

// TestKeysLastKnownGood: while the database does not answer, a key seen within
// StaleTTL is answered from its last entry, a key never seen gets the database's error
// at once, and a revocation that arrives by event still holds.
func TestKeysLastKnownGood(t *testing.T) {
	ctx := context.Background()
	clk := newClock()
	db := storetest.OpenMigrated(t, "sqlite://:memory:", store.WithClock(clk.Now))
	known, kk, err := db.APIKeys().Create(ctx, store.NewKey{Name: "known"})
	mustNoErr(t, err)
	never, _, err := db.APIKeys().Create(ctx, store.NewKey{Name: "never seen"})
	mustNoErr(t, err)
	old, _, err := db.APIKeys().Create(ctx, store.NewKey{Name: "seen long ago"})
	mustNoErr(t, err)
	b := &fakeBreaker{}
	a := NewKeys(db.APIKeys(), time.Second, clk.Now)
	a.DB, a.StaleTTL = b, time.Minute
	for _, k := range []string{known, old} {
		if _, err := a.Lookup(ctx, k); err != nil {
			t.Fatal(err)
		}
	}
	db.Close() // the database goes away
	clk.Add(5 * time.Second)
	if _, err := a.Lookup(ctx, known); err != nil || !b.tripped {
		t.Fatalf("a known key in the outage: %v (breaker tripped %v)", err, b.tripped)
	}
	if _, err := a.Lookup(ctx, never); err == nil || errors.Is(err, ErrKeyUnknown) {
		t.Fatalf("a key never seen: %v, want the database's error", err)
	}
	if a.StaleAnswers() != 1 {
		t.Fatalf("stale answers %d", a.StaleAnswers())
	}
	a.Revoked(kk.ID)
	if _, err := a.Lookup(ctx, known); !errors.Is(err, ErrKeyRevoked) {
		t.Fatalf("revoked by event in the outage: %v", err)
	}
	clk.Add(2 * time.Minute) // past StaleTTL
	if _, err := a.Lookup(ctx, old); err == nil {
		t.Fatal("an entry older than StaleTTL answered")
	}
}
