package realtime

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
)

// TestOutagesOneIncidentPerOutage drives a breaker through two outages: each sets
// hapa_dependency_up to 0 and back to 1, and records exactly one E5002 incident,
// marked resolved when the dependency is back (even when the outage ends before the
// recorder has written the row).
func TestOutagesOneIncidentPerOutage(t *testing.T) {
	for name, db := range storetest.DBs(t) {
		t.Run(name, func(t *testing.T) {
			m, reg := newTestMetrics(t)
			rec := NewIncidentRecorder(IncidentConfig{}, IncidentDeps{Store: db.Incidents(), Observer: m})
			o := NewOutages(OutageDeps{Observer: m, Incidents: rec, Resolver: db.Incidents()})
			ctx, cancel := context.WithCancel(context.Background())
			var wg sync.WaitGroup
			for _, run := range []func(context.Context) error{rec.Run, o.Run} {
				wg.Go(func() { _ = run(ctx) })
			}
			defer wg.Wait()
			defer cancel()

			var reachable atomic.Bool
			br := store.NewBreaker(func(context.Context) error {
				if reachable.Load() {
					return nil
				}
				return syscall.ECONNREFUSED
			}, store.BreakerConfig{Probe: 5 * time.Millisecond})
			defer br.Close()
			br.Watch(o.Watch("redis", CodeCacheError))
			up := func() float64 { return gathered(t, reg, "hapa_dependency_up")["redis"] }
			if up() != 1 {
				t.Fatalf("hapa_dependency_up before any failure: %v", up())
			}

			for outage := 1; outage <= 2; outage++ {
				reachable.Store(false)
				for range 5 { // several callers fail: still one outage
					br.Fail(context.Background(), errors.New("dial tcp: i/o timeout"))
				}
				storetest.WaitFor(t, "the gauge to drop", func() bool { return up() == 0 })
				reachable.Store(true)
				storetest.WaitFor(t, "the gauge to rise", func() bool { return up() == 1 })
				var got []store.Incident
				storetest.WaitFor(t, "the incidents to be resolved", func() bool {
					all, err := db.Incidents().Recent(context.Background(), 10)
					if err != nil {
						t.Fatal(err)
					}
					got = all
					for _, in := range all {
						if in.Status != store.IncidentResolved {
							return false
						}
					}
					return len(all) == outage
				})
				in := got[0]
				if in.Code != "E5002" || in.Path != "dependency:redis" || in.Detail != "redis unavailable: dial tcp: i/o timeout" {
					t.Errorf("outage %d: incident %+v", outage, in)
				}
			}
			if n := gathered(t, reg, "hapa_incidents_total")["E5002"]; n != 2 {
				t.Errorf("hapa_incidents_total{code=E5002} = %v, want 2", n)
			}
		})
	}
}
