package realtime

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hapa-project/hapa/store/storetest"
)

type eventLog struct {
	mu  sync.Mutex
	evs []ClusterEvent
}

func (l *eventLog) add(ev ClusterEvent) { l.mu.Lock(); l.evs = append(l.evs, ev); l.mu.Unlock() }
func (l *eventLog) count(typ string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	n := 0
	for _, e := range l.evs {
		if e.Type == typ {
			n++
		}
	}
	return n
}

func TestEventsLocal(t *testing.T) {
	e := NewEvents(nil, "", nil)
	var got eventLog
	e.Subscribe(got.add)
	if err := e.Publish(context.Background(), ClusterEvent{Type: EventCacheCleared, Namespace: "code_generation"}); err != nil {
		t.Fatal(err)
	}
	if got.count(EventCacheCleared) != 1 {
		t.Fatal("local handler not called once")
	}
}

func TestEventsAcrossReplicas(t *testing.T) {
	rdb, prefix := storetest.Redis(t)
	proxy := storetest.NewProxy(t, rdb.Options().Addr)
	opt := *rdb.Options()
	opt.Addr = proxy.Addr()
	viaProxy := redis.NewClient(&opt)
	defer viaProxy.Close()

	a, b := NewEvents(rdb, prefix, nil), NewEvents(viaProxy, prefix, nil)
	other := NewEvents(rdb, prefix+"other:", nil) // another deployment on the same Redis
	var gotA, gotB, gotOther eventLog
	a.Subscribe(gotA.add)
	b.Subscribe(gotB.add)
	other.Subscribe(gotOther.add)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	for _, e := range []*Events{a, b, other} {
		wg.Add(1)
		go func() { defer wg.Done(); e.Run(ctx) }()
	}
	defer func() { cancel(); wg.Wait() }()

	// Publish until b's subscription is up (delivery is at most once).
	publishUntil := func(typ string) {
		storetest.WaitFor(t, typ+" on replica b", func() bool {
			if err := a.Publish(ctx, ClusterEvent{Type: typ, KeyID: 5}); err != nil {
				t.Fatal(err)
			}
			time.Sleep(30 * time.Millisecond)
			return gotB.count(typ) > 0
		})
	}
	publishUntil(EventKeyRevoked)
	time.Sleep(50 * time.Millisecond)
	if n, m := gotA.count(EventKeyRevoked), gotB.count(EventKeyRevoked); n < m {
		t.Errorf("publisher saw %d events, b %d: the publisher must apply each once, locally", n, m)
	}
	proxy.Refuse() // b loses Redis …
	time.Sleep(200 * time.Millisecond)
	proxy.Heal() // … and resubscribes
	publishUntil(EventCacheCleared)
	if n := gotOther.count(EventKeyRevoked) + gotOther.count(EventCacheCleared); n != 0 {
		t.Errorf("a deployment with another prefix received %d of these events", n)
	}
}
