package realtime

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hapa-project/hapa/store/storetest"
)

// TestEventsAfterRedisFailover: when the Redis master that carries the events channel
// is killed, the replicas' subscriptions come back on the promoted replica (Sentinel)
// or on the new master of the channel's slot (Cluster), and events flow again
// (docs/operations.md, "Redis Sentinel and Cluster").
func TestEventsAfterRedisFailover(t *testing.T) {
	prefix := "hapatest:" + storetest.RandomHex(t) + ":"
	t.Run("sentinel", func(t *testing.T) {
		s := storetest.RedisSentinel(t)
		checkEventsSurvive(t, s.Client(), s.Client(), prefix, s.Master.Kill)
	})
	t.Run("cluster", func(t *testing.T) {
		s := storetest.RedisCluster(t, 1)
		checkEventsSurvive(t, s.Client(), s.Client(), prefix, func() { s.MasterOf(prefix + "events").Kill() })
	})
}

// checkEventsSurvive runs two replicas' event buses on clients a and b, checks that an
// event reaches b, kills the master with kill, and checks that events reach b again.
func checkEventsSurvive(t *testing.T, ra, rb redis.UniversalClient, prefix string, kill func()) {
	a, b := NewEvents(ra, prefix, nil), NewEvents(rb, prefix, nil)
	var got eventLog
	b.Subscribe(got.add)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, e := range []*Events{a, b} {
		wg.Add(1)
		go func() { defer wg.Done(); e.Run(ctx) }()
	}
	defer func() { cancel(); wg.Wait() }()
	reaches := func(keyID int64) bool {
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
			_ = a.Publish(ctx, ClusterEvent{Type: EventKeyRevoked, KeyID: keyID}) // fails while Redis is away
			got.mu.Lock()
			for _, ev := range got.evs {
				if ev.KeyID == keyID {
					got.mu.Unlock()
					return true
				}
			}
			got.mu.Unlock()
		}
		return false
	}
	if !reaches(1) {
		t.Fatal("no event reached the other replica before the failover")
	}
	kill()
	start := time.Now()
	if !reaches(2) {
		t.Fatal("no event reached the other replica within 30 s of the master's death")
	}
	t.Logf("events flow again %v after the master was killed", time.Since(start).Round(10*time.Millisecond))
}
