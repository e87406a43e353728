package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
	"github.com/hapa-project/hapa/vllm/sim"
)

// The Redis rows of docs/operations.md, "Failure modes": a real `hapa serve` reaches
// Redis through a fault proxy (storetest.Proxy), which refuses, black-holes or slows
// it (+300 ms a round trip, past the 250 ms timeout) and then heals. For each fault:
// no cache hit and no SSE generation fails, cache hits stay fast once the breaker has
// opened, hapa_dependency_up{dependency="redis"} goes to 0 and back to 1, exactly one
// E5002 incident is opened and then resolved, and the cache is Redis's again after
// the heal. Bounds are generous; the figures are logged
// (go test -v -run TestFaultsRedis ./cmd/hapa/).

// redisFaultEnv is one gateway whose Redis is behind a proxy.
type redisFaultEnv struct {
	c      *cluster
	r      *replica
	proxy  *storetest.Proxy
	direct redis.UniversalClient // the same Redis, not through the proxy
	key    string
	seq    int
}

func TestFaultsRedis(t *testing.T) {
	if testing.Short() {
		t.Skip("fault tests start processes")
	}
	e := newRedisFaultEnv(t)
	hot := `{"prompt":"def add(a, b): a cached answer","temperature":0.1,"max_tokens":24}`

	// Healthy baseline, and the series an alert reads exist before any failure.
	if v, ok := e.metric(t, `hapa_cache_errors_total{namespace="code_generation"}`); !ok || v != 0 {
		t.Errorf("hapa_cache_errors_total before any failure: %v (present %v)", v, ok)
	}
	if up, ok := e.metric(t, `hapa_dependency_up{dependency="redis"}`); up != 1 {
		t.Errorf("hapa_dependency_up at start: %v (present %v)", up, ok)
	}
	e.hit(t, hot) // fills the cache
	healthy := e.hits(t, hot, 50)
	t.Logf("healthy: 50 cache hits p50 %v p99 %v", pct(healthy, 50), pct(healthy, 99))

	faults := []struct {
		name  string
		apply func()
	}{
		{"refused", e.proxy.Refuse},
		{"black hole", e.proxy.BlackHole},
		{"slow +300ms", func() { e.proxy.Slow(300 * time.Millisecond) }},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			e.outage(t, f.name, hot, f.apply)
		})
	}

	// The same hits on a gateway without Redis: what "degraded" is compared with.
	plain := newCluster(t, clusterOpts{n: 1, noRedis: true, sim: sim.Config{TTFT: 2 * time.Millisecond, ITL: 2 * time.Millisecond},
		env: map[string]string{"RATE_LIMIT_RULES": "generation=100000/m"}})
	pk, _ := plain.key("faults", 0)
	pe := &redisFaultEnv{c: plain, r: plain.replicas[0], key: pk}
	pe.hit(t, hot)
	without := pe.hits(t, hot, 50)
	t.Logf("without Redis: 50 cache hits p50 %v p99 %v", pct(without, 50), pct(without, 99))

	if bad := nonJSONLines(e.r.log.String()); len(bad) > 0 {
		t.Errorf("%d log lines are not JSON (STRUCTURED_LOGGING=true), e.g.:\n%s", len(bad), strings.Join(bad[:min(5, len(bad))], "\n"))
	}
}

func newRedisFaultEnv(t *testing.T) *redisFaultEnv {
	t.Helper()
	u := storetest.RedisURL(t)
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatal(err)
	}
	proxy := storetest.NewProxy(t, opt.Addr)
	direct, err := store.NewRedis(u)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { direct.Close() })
	c := newCluster(t, clusterOpts{n: 1, sim: sim.Config{TTFT: 2 * time.Millisecond, ITL: 2 * time.Millisecond},
		env: map[string]string{
			"REDIS_URL":        fmt.Sprintf("redis://%s/%d", proxy.Addr(), opt.DB),
			"RATE_LIMIT_RULES": "stream=100000/m,generation=100000/m,completion=100000/m",
		}})
	key, _ := c.key("faults", 0)
	return &redisFaultEnv{c: c, r: c.replicas[0], proxy: proxy, direct: direct, key: key}
}

// outage breaks Redis with apply, checks what users and operators see, heals it and
// checks the recovery.
func (e *redisFaultEnv) outage(t *testing.T, name, hot string, apply func()) {
	before := e.incidents(t)
	errorsBefore, _ := e.metric(t, `hapa_cache_errors_total{namespace="code_generation"}`)
	e.hit(t, hot) // a hit in Redis (and in the local copy)

	start := time.Now()
	apply()
	first := e.hit(t, hot) // waits for Redis once: the breaker opens
	eventually(t, "hapa_dependency_up 0", func() bool {
		v, ok := e.metric(t, `hapa_dependency_up{dependency="redis"}`)
		return ok && v == 0
	})
	down := time.Since(start)
	hits := e.hits(t, hot, 50)
	failed, streams := 0, 10
	var sse []time.Duration
	for range streams {
		d, ok := e.stream(t)
		if !ok {
			failed++
		}
		sse = append(sse, d)
	}
	if failed > 0 {
		t.Errorf("%d of %d SSE generations failed while Redis was %s", failed, streams, name)
	}
	if p := pct(hits, 99); p > 100*time.Millisecond {
		t.Errorf("p99 of 50 cache hits with Redis %s: %v, want < 100 ms once the breaker is open", name, p)
	}
	errorsDuring, _ := e.metric(t, `hapa_cache_errors_total{namespace="code_generation"}`)
	if errorsDuring-errorsBefore < 50 {
		t.Errorf("hapa_cache_errors_total rose by %v during the outage, want every bypassed read (≥ 50)", errorsDuring-errorsBefore)
	}
	var open []store.Incident
	eventually(t, "the E5002 incident", func() bool {
		open = newIncidents(before, e.incidents(t))
		return len(open) > 0
	})
	if len(open) != 1 || open[0].Status != store.IncidentOpen {
		t.Errorf("incidents during the outage: %+v, want one open", open)
	}

	healed := time.Now()
	e.proxy.Heal()
	eventually(t, "hapa_dependency_up 1", func() bool {
		v, ok := e.metric(t, `hapa_dependency_up{dependency="redis"}`)
		return ok && v == 1
	})
	recovery := time.Since(healed)
	if recovery > 5*time.Second {
		t.Errorf("recovery took %v, want about the probe interval (1 s)", recovery)
	}
	var after []store.Incident
	eventually(t, "the incident resolved", func() bool {
		after = newIncidents(before, e.incidents(t))
		return len(after) == 1 && after[0].Status == store.IncidentResolved
	})
	if len(after) != 1 {
		t.Errorf("incidents of the outage: %+v, want exactly one", after)
	}
	id := "none"
	if len(after) > 0 {
		id = after[0].ID
	}
	// The cache is Redis's again: a new answer is written there.
	keys := e.cacheKeys(t)
	e.hit(t, fmt.Sprintf(`{"prompt":"after the %s outage","temperature":0,"max_tokens":8}`, name))
	if n := e.cacheKeys(t); n != keys+1 {
		t.Errorf("after recovery Redis holds %d cache entries, want %d (the new answer)", n, keys+1)
	}
	t.Logf("Redis %s: first hit %v, then 50 hits p50 %v p99 %v; %d SSE generations, 0 failed, p50 %v; "+
		"gauge 0 %v after the fault; +%v cache errors; incident %s; recovery %v after the heal",
		name, first.Round(time.Millisecond), pct(hits, 50), pct(hits, 99), streams, pct(sse, 50),
		down.Round(time.Millisecond), errorsDuring-errorsBefore, id, recovery.Round(time.Millisecond))
}

// eventually polls cond every 10 ms for up to 6 s; on timeout it fails the test but
// lets it go on, so that one run reports every broken promise.
func eventually(t *testing.T, what string, cond func() bool) bool {
	t.Helper()
	deadline := time.Now().Add(6 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Errorf("timed out waiting for %s", what)
			return false
		}
		time.Sleep(10 * time.Millisecond)
	}
	return true
}

// hit asks for hot (a cacheable request) and returns how long it took; it fails the
// test unless the answer is 200 and, after the first, a cache hit.
func (e *redisFaultEnv) hit(t *testing.T, body string) time.Duration {
	t.Helper()
	start := time.Now()
	req, _ := http.NewRequest("POST", e.r.url+"/api/v1/code/generate", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", e.key)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	d := time.Since(start)
	if resp.StatusCode != 200 {
		t.Fatalf("cache hit answered %d: %s", resp.StatusCode, b)
	}
	return d
}

// hits asks for hot n times, one after another, and returns each latency; every
// answer must be a cache hit.
func (e *redisFaultEnv) hits(t *testing.T, hot string, n int) []time.Duration {
	t.Helper()
	out := make([]time.Duration, 0, n)
	for range n {
		start := time.Now()
		req, _ := http.NewRequest("POST", e.r.url+"/api/v1/code/generate", strings.NewReader(hot))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("X-API-Key", e.key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Cached bool `json:"cached"`
		}
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		out = append(out, time.Since(start))
		if resp.StatusCode != 200 || err != nil || !body.Cached {
			t.Fatalf("cache hit: %d, cached %v, %v", resp.StatusCode, body.Cached, err)
		}
	}
	return out
}

// stream runs one uncached SSE generation and reports its duration and whether it
// ended with done.
func (e *redisFaultEnv) stream(t *testing.T) (time.Duration, bool) {
	t.Helper()
	e.seq++
	start := time.Now()
	resp := request(t, "POST", e.r.url+"/api/v1/code/generate/stream",
		map[string]any{"prompt": fmt.Sprintf("stream %d of a fault test", e.seq), "max_tokens": 24, "temperature": 0.9},
		"X-API-Key", e.key)
	defer resp.Body.Close()
	done := false
	sseEvents(resp.Body, func(ev map[string]any, _ string) bool {
		switch ev["type"] {
		case "done":
			done = true
			return false
		case "error":
			t.Logf("SSE error: %v", ev)
			return false
		}
		return true
	})
	return time.Since(start), resp.StatusCode == 200 && done
}

// metric reads one series (name{labels}) from the gateway's /metrics.
func (e *redisFaultEnv) metric(t *testing.T, series string) (float64, bool) {
	t.Helper()
	return metricOf(t, e.r.url, series)
}

// metricOf reads one series (name{labels}) from /metrics of the replica at url.
func metricOf(t *testing.T, url, series string) (float64, bool) {
	t.Helper()
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindSubmatch(b)
	if m == nil {
		return 0, false
	}
	v, _ := strconv.ParseFloat(string(m[1]), 64)
	return v, true
}

// incidents returns the Redis outage incidents (E5002 on dependency:redis).
func (e *redisFaultEnv) incidents(t *testing.T) []store.Incident {
	t.Helper()
	all, err := e.c.db.Incidents().Recent(context.Background(), 1000)
	if err != nil {
		t.Fatal(err)
	}
	var out []store.Incident
	for _, in := range all {
		if in.Code == "E5002" && in.Path == "dependency:redis" {
			out = append(out, in)
		}
	}
	return out
}

// newIncidents returns the incidents of now that are not in before.
func newIncidents(before, now []store.Incident) []store.Incident {
	var out []store.Incident
	for _, in := range now {
		if !slices.ContainsFunc(before, func(b store.Incident) bool { return b.ID == in.ID }) {
			out = append(out, in)
		}
	}
	return out
}

// cacheKeys counts the gateway's response-cache entries in Redis.
func (e *redisFaultEnv) cacheKeys(t *testing.T) int {
	t.Helper()
	keys, err := e.direct.Keys(context.Background(), e.c.env["REDIS_PREFIX"]+"cache:code_generation:*").Result()
	if err != nil {
		t.Fatal(err)
	}
	return len(keys)
}

// pct is the p-th percentile (nearest rank) of ds.
func pct(ds []time.Duration, p int) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	i := (p*len(s)+99)/100 - 1
	return s[max(0, min(i, len(s)-1))].Round(10 * time.Microsecond)
}

// nonJSONLines returns the lines of a log that are not JSON objects, apart from the
// first start's console message about the admin account ("hapa: created admin …",
// written to stdout on purpose, once, so that the operator sees the password).
func nonJSONLines(log string) []string {
	var bad []string
	sc := bufio.NewScanner(strings.NewReader(log))
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var v map[string]any
		if line := sc.Text(); line != "" && !strings.HasPrefix(line, "hapa: ") && json.Unmarshal([]byte(line), &v) != nil {
			bad = append(bad, line)
		}
	}
	return bad
}
