package store_test

import (
	"context"
	"net/url"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
)

// TestPostgresGivesUpWithItsContext: against a PostgreSQL that accepts bytes and never
// answers, a query returns when its context ends — both on a connection opened before
// the fault and on one being opened during it. lib/pq alone waits for ever in both.
func TestPostgresGivesUpWithItsContext(t *testing.T) {
	base := storetest.PGURL(t)
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	proxy := storetest.NewProxy(t, u.Host)
	u.Host = proxy.Addr()
	ctx := context.Background()
	db, err := store.Open(ctx, u.String(), store.WithMaxOpenConns(2))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if err := db.Ping(ctx); err != nil { // one connection now open and idle
		t.Fatal(err)
	}

	proxy.BlackHole()
	for _, step := range []string{"open connection", "new connection"} {
		qctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		t0 := time.Now()
		err := db.Ping(qctx)
		took := time.Since(t0)
		cancel()
		t.Logf("%s: %v after %s", step, err, took.Round(time.Millisecond))
		if err == nil || took > 2*time.Second {
			t.Errorf("%s, black-holed: ping returned %v after %s; want an error when its 300 ms context ends", step, err, took)
		}
	}

	proxy.Heal()
	storetest.WaitFor(t, "the database back", func() bool {
		qctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		return db.Ping(qctx) == nil
	})
}
