package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/vllm/sim"
)

// TestFaultsPostgres: PostgreSQL refused, then black-holed, for 10 s each while a
// replica serves 100 requests a second. Callers it knows keep being served; a key it
// never saw gets 503 E5003 at once; request-log rows wait in the spool and every one
// reaches the database after the outage; hapa_dependency_up{dependency="postgres"}
// goes 0 and back to 1; one E5003 incident per outage, resolved after it.
// HAPA_FAULT_PG_OUTAGE=60s runs longer outages (docs/operations.md quotes both).
func TestFaultsPostgres(t *testing.T) {
	outage := 10 * time.Second
	if v := os.Getenv("HAPA_FAULT_PG_OUTAGE"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			t.Fatalf("HAPA_FAULT_PG_OUTAGE: %v", err)
		}
		outage = d
	}
	c := newCluster(t, clusterOpts{n: 1, noRedis: true, pgProxy: true, sim: sim.Config{TTFT: time.Millisecond, ITL: time.Millisecond},
		env: map[string]string{"RATE_LIMIT_ENABLED": "false", "API_KEY_CACHE_TTL": "1s", "API_KEY_STALE_TTL": "5m"}})
	r := c.replicas[0]
	for _, fault := range []struct {
		name   string
		break_ func()
	}{
		{"refused", c.pgProxy.Refuse},
		{"black-holed", c.pgProxy.BlackHole},
	} {
		t.Run(fault.name, func(t *testing.T) {
			known, kk := c.key("known "+fault.name, 0)
			unknown, _ := c.key("never seen "+fault.name, 0)
			if s := generate(t, r.url, known, "warm up"); s != 200 {
				t.Fatalf("warm-up: %d", s)
			}
			var sent, ok atomic.Int64
			var mu sync.Mutex
			var lat []time.Duration
			var failures []int
			stop := make(chan struct{})
			var wg sync.WaitGroup
			load := func() {
				defer wg.Done()
				tick := time.NewTicker(10 * time.Millisecond) // 100 requests a second
				defer tick.Stop()
				for i := 0; ; i++ {
					select {
					case <-stop:
						return
					case <-tick.C:
					}
					wg.Add(1)
					go func() {
						defer wg.Done()
						sent.Add(1)
						t0 := time.Now()
						s := generate(t, r.url, known, fmt.Sprintf("%s load %d", fault.name, i))
						mu.Lock()
						defer mu.Unlock()
						if s == 200 {
							ok.Add(1)
							lat = append(lat, time.Since(t0))
						} else {
							failures = append(failures, s)
						}
					}()
				}
			}
			wg.Add(1)
			go load()
			time.Sleep(time.Second)
			began := time.Now()
			fault.break_()
			// Callers in flight when it fails wait one lookup timeout (2 s) at most; the
			// breaker opens at the first failed lookup or probe.
			for c.metricValue(t, r, `hapa_dependency_up{dependency="postgres"}`) != 0 {
				if time.Since(began) > 5*time.Second {
					t.Fatal("hapa_dependency_up{postgres} stayed 1 during the outage")
				}
				time.Sleep(50 * time.Millisecond)
			}
			detected := time.Since(began)
			t0 := time.Now()
			resp := request(t, "POST", r.url+"/api/v1/code/generate", map[string]any{"prompt": "x"}, "X-API-Key", unknown)
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			unknownTook := time.Since(t0)
			if resp.StatusCode != 503 || !strings.Contains(string(body), "E5003") || unknownTook > 500*time.Millisecond {
				t.Errorf("a key never seen during the outage: %d %s after %s; want 503 E5003 at once", resp.StatusCode, body, unknownTook)
			}
			time.Sleep(outage - time.Since(began))
			c.pgProxy.Heal()
			healed := time.Now()
			for c.metricValue(t, r, `hapa_dependency_up{dependency="postgres"}`) != 1 {
				if time.Since(healed) > 10*time.Second {
					t.Fatal("hapa_dependency_up{postgres} did not come back")
				}
				time.Sleep(50 * time.Millisecond)
			}
			recovered := time.Since(healed)
			time.Sleep(time.Second)
			close(stop)
			wg.Wait()

			// Every answered request has its row, through the spool.
			var rows int
			deadline := time.Now().Add(30 * time.Second)
			for ; time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
				all, err := c.db.RequestLog().Since(context.Background(), began.Add(-time.Hour), "", 0)
				if err != nil {
					t.Fatal(err)
				}
				rows = 0
				for _, row := range all {
					if row.KeyID != nil && *row.KeyID == kk.ID && row.Status == 200 {
						rows++
					}
				}
				if int64(rows) >= ok.Load()+1 { // + the warm-up
					break
				}
			}
			slices.Sort(lat)
			p99 := lat[len(lat)*99/100]
			p50 := lat[len(lat)/2]
			t.Logf("PostgreSQL %s for %s at 100 requests/s: %d sent, %d failed %v; p50 %s, p99 %s; down after %d ms; a new key answered 503 in %s; "+
				"%d of %d rows written after the outage; gauge back %d ms after the heal",
				fault.name, outage, sent.Load(), len(failures), failures, p50.Round(time.Millisecond), p99.Round(time.Millisecond),
				detected.Milliseconds(), unknownTook.Round(time.Millisecond), rows-1, ok.Load(), recovered.Milliseconds())
			if len(failures) != 0 {
				t.Errorf("%d requests of a known key failed", len(failures))
			}
			if int64(rows) != ok.Load()+1 {
				t.Errorf("%d rows for %d answered requests: rows lost", rows, ok.Load()+1)
			}
			c.checkOutageIncident(t, "postgres", began)
		})
	}
}

// metricValue reads one series from a replica's /metrics (-1 when absent).
func (c *cluster) metricValue(t *testing.T, r *replica, series string) float64 {
	t.Helper()
	resp, err := http.Get(r.url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	for _, line := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(line, series+" "); ok {
			var f float64
			fmt.Sscan(v, &f)
			return f
		}
	}
	return -1
}

// checkOutageIncident waits for the one incident of the dependency's outage that began
// at began, and for it to be marked resolved.
func (c *cluster) checkOutageIncident(t *testing.T, dep string, began time.Time) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for {
		list, err := c.db.Incidents().Recent(context.Background(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		var mine []store.Incident
		for _, in := range list {
			if in.Path == "dependency:"+dep && !in.CreatedAt.Before(began.Add(-time.Second)) {
				mine = append(mine, in)
			}
		}
		if len(mine) == 1 && mine[0].Status == store.IncidentResolved {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("incidents of the %s outage: %+v; want one, resolved", dep, mine)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
