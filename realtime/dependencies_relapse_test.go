package realtime

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"
)

// outageLog records what Outages asks of the incident store.
type outageLog struct {
	mu       sync.Mutex
	recorded []string
	resolved []string
}

func (l *outageLog) Record(_ context.Context, _ *Error, _, _ string) string {
	l.mu.Lock()
	defer l.mu.Unlock()
	id := fmt.Sprintf("INC-%d", len(l.recorded)+1)
	l.recorded = append(l.recorded, id)
	return id
}

func (l *outageLog) Resolve(_ context.Context, id string) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.resolved = append(l.resolved, id)
	return nil
}

func (l *outageLog) counts() (int, int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.recorded), len(l.resolved)
}

// TestOutagesRelapseIsTheSameOutage: a dependency that goes down again less than
// settleFor after it came back (a breaker closing and tripping again while a Redis
// Cluster moves its slots) continues the first outage: one incident, resolved once
// the dependency has stayed up; going down after settleFor is a new outage.
func TestOutagesRelapseIsTheSameOutage(t *testing.T) {
	log := &outageLog{}
	o := NewOutages(OutageDeps{Incidents: log, Resolver: log})
	now := time.Date(2026, 12, 7, 4, 0, 0, 0, time.UTC)
	o.now = func() time.Time { return now }
	watch := o.Watch("redis", CodeCacheError)
	ctx := context.Background()
	down := errors.New("dial tcp: connection refused")

	watch(false, down)
	now = now.Add(3 * time.Second)
	watch(true, nil)
	now = now.Add(settleFor / 4)
	o.resolvePending(ctx) // too early: it may still relapse
	if rec, res := log.counts(); rec != 1 || res != 0 {
		t.Fatalf("after the first recovery: %d recorded, %d resolved; want 1, 0", rec, res)
	}
	watch(false, errors.New("context deadline exceeded")) // the relapse
	now = now.Add(time.Second)
	watch(true, nil)
	now = now.Add(settleFor)
	o.resolvePending(ctx)
	if rec, res := log.counts(); rec != 1 || res != 1 || log.resolved[0] != "INC-1" {
		t.Fatalf("after the relapse: recorded %v, resolved %v; want one incident, resolved", log.recorded, log.resolved)
	}

	now = now.Add(time.Minute)
	watch(false, down) // long after: a new outage
	now = now.Add(time.Second)
	watch(true, nil)
	now = now.Add(settleFor)
	o.resolvePending(ctx)
	if rec, res := log.counts(); rec != 2 || res != 2 {
		t.Fatalf("a later outage: recorded %v, resolved %v; want a second incident, resolved", log.recorded, log.resolved)
	}
}
