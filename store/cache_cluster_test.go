package store_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
)

// TestRedisCacheOnCluster: on a Redis Cluster the cache's entries spread over the
// masters, and Stats and Clear, which SCAN, see every master's keys (SCAN sees one
// node) and delete them without a command over two slots.
func TestRedisCacheOnCluster(t *testing.T) {
	cluster := storetest.RedisCluster(t, 0)
	prefix := "hapatest:" + storetest.RandomHex(t) + ":"
	c := store.NewRedisCache(cluster.Client(), prefix, time.Second)
	ctx := context.Background()
	masters := map[string]bool{}
	for i := range 60 {
		ns := []string{"gen", "cmp"}[i%2]
		if err := c.Set(ctx, ns, fmt.Sprint(i), []byte("v"), time.Minute); err != nil {
			t.Fatal(err)
		}
		masters[cluster.MasterOf(fmt.Sprintf("%scache:%s:%d", prefix, ns, i)).Addr] = true
	}
	if len(masters) != 3 {
		t.Fatalf("60 entries on %d masters, want 3", len(masters))
	}
	if s := c.Stats(ctx); s["gen"].Entries != 30 || s["cmp"].Entries != 30 {
		t.Fatalf("stats %+v, want 30 entries in each namespace", s)
	}
	if n, err := c.Clear(ctx, "gen"); err != nil || n != 30 {
		t.Fatalf("clear gen: %d %v, want 30", n, err)
	}
	if v, ok, err := c.Get(ctx, "cmp", "1"); err != nil || !ok || string(v) != "v" {
		t.Fatalf("cmp survived the clear of gen? %q %v %v", v, ok, err)
	}
	if n, err := c.Clear(ctx, ""); err != nil || n != 30 {
		t.Fatalf("clear all: %d %v, want 30", n, err)
	}
	if s := c.Stats(ctx); s["gen"].Entries != 0 || s["cmp"].Entries != 0 {
		t.Fatalf("stats after clearing %+v", s)
	}
}
