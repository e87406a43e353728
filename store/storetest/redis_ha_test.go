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
	// Replication is asynchronous: make sure the replica has "a" before its master dies.
	m := s.MasterOf("a")
	mc := m.Client()
	if err := mc.Set(ctx, "a", "a", time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if n, err := mc.Do(ctx, "WAIT", 1, 5000).Int(); err != nil || n != 1 {
		t.Fatalf("WAIT: %d replicas, %v", n, err)
	}
	m.Kill()
	start := time.Now()
	// PingRedis (HAPA's breaker probe) fails until a replica has taken over, and
	// reloads the client's slot map, which then sends "a" to the new master.
	var last error
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("the replica of the killed master does not serve 30 s after the kill: %v", last)
		}
		cctx, cancel := context.WithTimeout(ctx, time.Second)
		last = store.PingRedis(cctx, c)
		if last == nil {
			var v string
			if v, last = c.Get(cctx, "a").Result(); last == nil && v != "a" {
				t.Fatalf("a = %q after the failover", v)
			}
		}
		cancel()
		if last == nil {
			break
		}
	}
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
