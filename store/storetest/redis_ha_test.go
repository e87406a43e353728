package storetest

import (
	"context"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
)

// TestRedisCluster: the helper's cluster serves keys on every master and fails over
// when a master is killed.
func TestRedisCluster(t *testing.T) {
	s := RedisCluster(t, 1)
	c := s.Client()
	ctx := context.Background()
	for _, k := range []string{"a", "b", "c", "d", "e", "f"} {
		if err := c.Set(ctx, k, k, time.Minute).Err(); err != nil {
			t.Fatal(err)
		}
	}
	m := s.MasterOf("a")
	m.Kill()
	start := time.Now()
	// PingRedis (HAPA's breaker probe) fails until a replica has taken over, and
	// reloads the client's slot map, which then sends "a" to the new master.
	waitUntil(t, "the replica of the killed master to serve", func() bool {
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		if store.PingRedis(cctx, c) != nil {
			return false
		}
		v, err := c.Get(cctx, "a").Result()
		return err == nil && v == "a"
	})
	if n := s.MasterOf("a"); n == m {
		t.Fatal("the killed master still serves the slot")
	}
	t.Logf("failover after %v", time.Since(start))
}

// TestRedisSentinel: the helper's sentinel promotes the replica when the master is
// killed, and HAPA's client follows.
func TestRedisSentinel(t *testing.T) {
	s := RedisSentinel(t)
	c := s.Client()
	ctx := context.Background()
	if err := c.Set(ctx, "k", "v", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if s.MasterAddr() != s.Master.Addr {
		t.Fatalf("master %s, want %s", s.MasterAddr(), s.Master.Addr)
	}
	s.Master.Kill()
	start := time.Now()
	waitUntil(t, "the replica promoted", func() bool { return s.MasterAddr() == s.Replica.Addr })
	waitUntil(t, "the client on the new master", func() bool {
		cctx, cancel := context.WithTimeout(ctx, 300*time.Millisecond)
		defer cancel()
		return c.Set(cctx, "k2", "v", time.Minute).Err() == nil
	})
	t.Logf("failover after %v", time.Since(start))
}
