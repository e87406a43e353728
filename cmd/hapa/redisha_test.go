package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
	"github.com/hapa-project/hapa/vllm/sim"
)

// The Redis failovers of docs/operations.md, "Redis Sentinel and Cluster": two real
// `hapa serve` replicas use a Redis Sentinel setup (one master, one replica, one
// sentinel) or a Redis Cluster (three masters, each with a replica), started from
// Debian's programs, under a steady load of ~50 inline completions a second of one
// API key with a token quota; the master under the key's quota counters is killed
// with SIGKILL. No request may fail — while Redis is away the replicas serve from
// their own cache, limiter and quota counters (the Redis breaker) — and
// hapa_dependency_up{dependency="redis"} must come back on every replica once the
// replica is promoted. The figures (failed of total, time to recovery) are logged:
// go test -v -run TestRedisHA ./cmd/hapa/

func TestRedisHASentinel(t *testing.T) {
	s := storetest.RedisSentinel(t)
	redisFailover(t, s.URL, "Sentinel", func(quotaKey string) {
		s.Master.Kill()
	})
	if got := s.MasterAddr(); got != s.Replica.Addr {
		t.Errorf("the sentinel names %s as master, want the promoted replica %s", got, s.Replica.Addr)
	}
}

func TestRedisHACluster(t *testing.T) {
	s := storetest.RedisCluster(t, 1)
	var killed *storetest.RedisNode
	var slotKey string
	redisFailover(t, s.URL, "Cluster", func(quotaKey string) {
		slotKey = quotaKey
		killed = s.MasterOf(quotaKey)
		killed.Kill()
	})
	if killed != nil && s.MasterOf(slotKey) == killed {
		t.Errorf("the killed master %s still serves the quota's slot", killed.Addr)
	}
}

// haLoad is the steady load of a failover test and what it saw.
type haLoad struct {
	sent, failed atomic.Int64
	mu           sync.Mutex
	failures     []string
	latencies    []time.Duration
	wg           sync.WaitGroup
}

// redisFailover runs the load against two replicas on redisURL, calls kill with the
// Redis key of the API key's day quota window after 2 s, and checks and reports what
// the replicas did until they used Redis again.
func redisFailover(t *testing.T, redisURL, name string, kill func(quotaKey string)) {
	c := newCluster(t, clusterOpts{n: 2, redisURL: redisURL, sim: sim.Config{TTFT: 2 * time.Millisecond, ITL: time.Millisecond},
		env: map[string]string{"RATE_LIMIT_RULES": "completion=100000/m,generation=100000/m,stream=100000/m"}})
	plain, key, err := c.db.APIKeys().Create(context.Background(), store.NewKey{Name: "redis-ha",
		Scopes: store.Scopes{store.ScopeCodeCompletion}, TokensPerMinute: 10_000_000, TokensPerDay: 100_000_000})
	if err != nil {
		t.Fatal(err)
	}
	started := time.Now().UTC()
	quotaKey := c.env["REDIS_PREFIX"] + "q:{" + strconv.FormatInt(key.ID, 10) + "}:d:" + started.Format("20060102")
	rdb, err := store.NewRedis(redisURL)
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()

	load := &haLoad{}
	stop := make(chan struct{})
	load.wg.Add(1) // the loop, so that its requests' Add never races the final Wait
	go func() {
		defer load.wg.Done()
		load.run(c, plain, stop)
	}()
	time.Sleep(2 * time.Second) // steady state, counted in Redis
	before := load.sent.Load()

	killedAt := time.Now()
	kill(quotaKey)
	// Every replica's Redis gauge goes to 0 (it saw the failure) and back to 1 (its
	// breaker's probe found the promoted replica).
	down := make([]time.Duration, len(c.replicas))
	up := make([]time.Duration, len(c.replicas))
	deadline := time.Now().Add(60 * time.Second)
	for {
		done := true
		for i, r := range c.replicas {
			v, ok := metricOf(t, r.url, `hapa_dependency_up{dependency="redis"}`)
			switch {
			case !ok:
				t.Fatalf("%s has no hapa_dependency_up{dependency=\"redis\"}", r.name)
			case v == 0 && down[i] == 0:
				down[i] = time.Since(killedAt)
			case v == 1 && down[i] != 0 && up[i] == 0:
				up[i] = time.Since(killedAt)
			}
			done = done && up[i] != 0
		}
		if done {
			break
		}
		if time.Now().After(deadline) {
			close(stop)
			load.wg.Wait()
			t.Fatalf("Redis (%s) not back 60 s after the master was killed: gauge down after %v, up after %v", name, down, up)
		}
		time.Sleep(20 * time.Millisecond)
	}
	recovered := slicesMax(up)
	during := load.sent.Load() - before
	time.Sleep(2 * time.Second) // served from Redis again
	close(stop)
	load.wg.Wait()
	rate := float64(load.sent.Load()) / time.Since(killedAt.Add(-2*time.Second)).Seconds()

	// The key's day counter in Redis ends at the tokens the request log charged: what
	// the replicas counted on their own meanwhile was added when Redis came back. Redis
	// replicates asynchronously, so a write the killed master acknowledged just before
	// it died may never have reached the replica that took over (and a reply lost after
	// the write makes a replica count it again): the two may differ by what the
	// requests around the kill charged.
	var logged, rows, most int64
	eventually(t, "every request's log row", func() bool {
		all, err := c.db.RequestLog().Since(context.Background(), started.Add(-time.Minute), "", 0)
		if err != nil {
			t.Fatal(err)
		}
		logged, rows = 0, 0
		for _, r := range all {
			if r.KeyID != nil && *r.KeyID == key.ID {
				n := int64(r.UpstreamIn + r.UpstreamOut)
				logged, rows, most = logged+n, rows+1, max(most, n)
			}
		}
		return rows == load.sent.Load()
	})
	var counter int64
	for settle := time.Now().Add(3 * time.Second); time.Now().Before(settle); time.Sleep(50 * time.Millisecond) {
		if counter, _ = rdb.Get(context.Background(), quotaKey).Int64(); counter == logged {
			break
		}
	}
	// Each replica's outage is one E5002 incident, resolved when its breaker closed.
	var incidents []store.Incident
	eventually(t, "the Redis incidents resolved", func() bool {
		all, err := c.db.Incidents().Recent(context.Background(), 1000)
		if err != nil {
			t.Fatal(err)
		}
		incidents = incidents[:0]
		resolved := true
		for _, in := range all {
			if in.Code == "E5002" && in.Path == "dependency:redis" {
				incidents = append(incidents, in)
				resolved = resolved && in.Status == store.IncidentResolved
			}
		}
		return len(incidents) > 0 && resolved
	})
	p50, p99, worst := pct(load.latencies, 50), pct(load.latencies, 99), slicesMax(load.latencies)
	t.Logf("Redis %s failover under %.0f req/s (2 replicas): %d of %d requests failed; gauge 0 after %v, back to 1 after %v "+
		"(per replica %v); %d requests served meanwhile; latency p50 %v p99 %v max %v; quota counter %d tokens, request log %d (%d rows, %+d); "+
		"%d E5002 incidents",
		name, rate, load.failed.Load(), load.sent.Load(), slicesMax(down).Round(time.Millisecond), recovered.Round(time.Millisecond),
		roundAll(up), during, p50, p99, worst.Round(time.Millisecond), counter, logged, rows, counter-logged, len(incidents))
	if load.failed.Load() != 0 {
		t.Errorf("%d of %d requests failed during the %s failover: %v", load.failed.Load(), load.sent.Load(), name, load.failures[:min(5, len(load.failures))])
	}
	if during == 0 {
		t.Error("no request was sent during the failover")
	}
	if len(incidents) != len(c.replicas) {
		t.Errorf("%d E5002 incidents, want one per replica (%d): a breaker that flaps opens one per outage", len(incidents), len(c.replicas))
	}
	if d := max(counter-logged, logged-counter); d > 4*most {
		t.Errorf("quota counter %d, request log %d: off by %d, more than four requests' tokens (%d each at most)", counter, logged, d, most)
	}
}

// run sends one inline completion every 20 ms (open loop: a slow answer does not delay
// the next request) until stop, alternating between the replicas; one in four asks
// for the same prefix again (a cache hit).
func (l *haLoad) run(c *cluster, key string, stop <-chan struct{}) {
	client := &http.Client{Timeout: 20 * time.Second}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for i := 0; ; i++ {
		select {
		case <-stop:
			return
		case <-tick.C:
		}
		prefix := fmt.Sprintf("def handler_%d(event):\n    ", i)
		if i%4 == 0 {
			prefix = "def hot_path(event):\n    "
		}
		url := c.replicas[i%len(c.replicas)].url
		l.sent.Add(1)
		l.wg.Add(1)
		go func() {
			defer l.wg.Done()
			body := fmt.Sprintf(`{"prefix":%q,"language":"python","max_tokens":16}`, prefix)
			req, _ := http.NewRequest("POST", url+"/api/v1/code/complete", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			req.Header.Set("X-API-Key", key)
			start := time.Now()
			resp, err := client.Do(req)
			var b []byte
			if err == nil {
				b, _ = io.ReadAll(resp.Body)
				resp.Body.Close()
			}
			l.mu.Lock()
			defer l.mu.Unlock()
			l.latencies = append(l.latencies, time.Since(start))
			if err != nil || resp.StatusCode != 200 {
				l.failed.Add(1)
				if err == nil {
					err = fmt.Errorf("%d %s", resp.StatusCode, b)
				}
				l.failures = append(l.failures, err.Error())
			}
		}()
	}
}

func slicesMax(ds []time.Duration) time.Duration {
	var m time.Duration
	for _, d := range ds {
		m = max(m, d)
	}
	return m
}

func roundAll(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}
