package limits

import (
	"context"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hapa-project/hapa/store/storetest"
)

// TestSocketsAcrossReplicas: two replicas share one key's cap through Redis; a closed
// socket frees its lease; a replica that stops renewing (it died) stops counting
// after the lease TTL.
func TestSocketsAcrossReplicas(t *testing.T) {
	rdb, prefix := storetest.Redis(t)
	checkSocketsAcrossReplicas(t, rdb, prefix)
}

func checkSocketsAcrossReplicas(t *testing.T, rdb redis.UniversalClient, prefix string) {
	cfg := SocketConfig{Prefix: prefix + "ws", LeaseTTL: 300 * time.Millisecond}
	a, b := NewSockets(cfg, rdb, nil), NewSockets(cfg, rdb, nil)
	ctx := context.Background()
	acquire := func(s *Sockets, session string) bool {
		t.Helper()
		ok, err := s.Acquire(ctx, "k7", session, 3)
		if err != nil {
			t.Fatal(err)
		}
		return ok
	}
	if !acquire(a, "a1") || !acquire(a, "a2") || !acquire(b, "b1") {
		t.Fatal("three sockets under a cap of 3 refused")
	}
	if acquire(b, "b2") || acquire(a, "a3") {
		t.Fatal("a fourth socket accepted on one of the replicas")
	}
	if !acquire(a, "a1") {
		t.Fatal("a session that holds a lease is refused its own")
	}
	b.Release("k7", "b1")
	if !acquire(b, "b2") {
		t.Fatal("a freed lease was not given again")
	}
	if n, err := a.Count(ctx, "k7"); err != nil || n != 3 {
		t.Fatalf("count %d %v, want 3", n, err)
	}
	// b keeps renewing; a dies (no renewals): a's two leases lapse.
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan error)
	go func() { done <- b.Run(rctx) }()
	time.Sleep(450 * time.Millisecond)
	if !acquire(b, "b3") || !acquire(b, "b4") {
		t.Fatal("the leases of a dead replica did not lapse")
	}
	if acquire(b, "b5") {
		t.Fatal("b's renewed leases lapsed")
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// Without Redis, Acquire says it cannot tell: the hub counts per replica.
func TestSocketsWithoutRedis(t *testing.T) {
	s := NewSockets(SocketConfig{}, nil, nil)
	if _, err := s.Acquire(context.Background(), "k", "s", 1); err == nil {
		t.Fatal("no error without Redis")
	}
	s.Release("k", "s")
}
