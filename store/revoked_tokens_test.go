package store

import (
	"context"
	"testing"
	"time"
)

func TestRevokedTokens(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		clk := newClock()
		db.now = clk.Now
		rt := db.RevokedTokens()
		start := clk.Now()
		mustNoErr(t, rt.Add(ctx, "jti-a", 7, start.Add(time.Hour)))
		clk.Add(time.Second)
		mustNoErr(t, rt.Add(ctx, "sid-b", 7, start.Add(10*time.Minute)))
		mustNoErr(t, rt.Add(ctx, "sid-b", 7, start.Add(time.Minute))) // an earlier expiry does not shorten it
		all, err := rt.Since(ctx, time.Time{})
		mustNoErr(t, err)
		if len(all) != 2 || all[0].ID != "jti-a" || all[1].ID != "sid-b" || !all[1].ExpiresAt.Equal(start.Add(10*time.Minute)) {
			t.Fatalf("all: %+v", all)
		}
		recent, err := rt.Since(ctx, start.Add(time.Second))
		mustNoErr(t, err)
		if len(recent) != 1 || recent[0].ID != "sid-b" {
			t.Fatalf("since +1s: %+v", recent)
		}
		clk.Add(20 * time.Minute) // sid-b has expired
		all, err = rt.Since(ctx, time.Time{})
		mustNoErr(t, err)
		if len(all) != 1 || all[0].ID != "jti-a" {
			t.Fatalf("after expiry: %+v", all)
		}
		n, err := rt.DeleteExpired(ctx)
		mustNoErr(t, err)
		if n != 1 {
			t.Fatalf("deleted %d, want 1", n)
		}
	})
}

func TestAPIKeysEndedSince(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		clk := newClock()
		db.now = clk.Now
		ks := db.APIKeys()
		soon := clk.Now().Add(time.Minute)
		_, live, err := ks.Create(ctx, NewKey{Name: "live"})
		mustNoErr(t, err)
		_, doomed, err := ks.Create(ctx, NewKey{Name: "doomed"})
		mustNoErr(t, err)
		_, expiring, err := ks.Create(ctx, NewKey{Name: "expiring", ExpiresAt: &soon})
		mustNoErr(t, err)
		check := clk.Now()
		clk.Add(time.Second)
		mustNoErr(t, ks.Revoke(ctx, doomed.ID))
		ended, err := ks.EndedSince(ctx, check)
		mustNoErr(t, err)
		if len(ended) != 1 || ended[0].ID != doomed.ID || !ended[0].Revoked {
			t.Fatalf("after the revocation: %+v", ended)
		}
		clk.Add(2 * time.Minute)
		ended, err = ks.EndedSince(ctx, check.Add(30*time.Second))
		mustNoErr(t, err)
		if len(ended) != 1 || ended[0].ID != expiring.ID || ended[0].Revoked {
			t.Fatalf("after the expiry: %+v (live key %d)", ended, live.ID)
		}
	})
}
