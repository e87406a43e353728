package web

import (
	"context"
	"net/http"
	"net/netip"
	"strconv"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hapa-project/hapa/realtime/limits"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
)

func newLimiter(t *testing.T, rdb redis.UniversalClient, prefix string, rules map[string]limits.Rate) *limits.Limiter {
	t.Helper()
	var br *store.Breaker
	if rdb != nil {
		br = store.NewRedisBreaker(rdb, store.BreakerConfig{Probe: 20 * time.Millisecond})
		t.Cleanup(br.Close)
	}
	l, err := limits.NewLimiter(limits.Config{Rules: rules, Prefix: prefix + "rl"}, limits.Deps{Redis: rdb, Breaker: br})
	if err != nil {
		t.Fatal(err)
	}
	return l
}

func withLimiter(l *limits.Limiter) func(*Config, *Deps) {
	return func(_ *Config, d *Deps) { d.Ops.Limiter = l }
}

// TestRateLimitAcrossReplicas runs two gateway instances over one Redis: the ops
// limit of a key holds globally, another key and another group have their own.
func TestRateLimitAcrossReplicas(t *testing.T) {
	rdb, prefix := storetest.Redis(t)
	rules := map[string]limits.Rate{limits.GroupOps: {Limit: 4, Period: time.Minute}}
	// One database, as replicas share PostgreSQL; each replica has its own authenticator.
	shared := openDB(t)
	sameDB := func(_ *Config, d *Deps) { d.DB = shared }
	a := newEnv(t, withLimiter(newLimiter(t, rdb, prefix, rules)), sameDB)
	b := newEnv(t, withLimiter(newLimiter(t, rdb, prefix, rules)), sameDB)
	mkKey := func() string {
		plain, _, err := shared.APIKeys().Create(context.Background(), store.NewKey{Scopes: []string{ScopeAdmin}})
		if err != nil {
			t.Fatal(err)
		}
		return plain
	}
	keyA, keyB := mkKey(), mkKey()

	ok := 0
	for i := 0; i < 8; i++ {
		env := a
		if i%2 == 1 {
			env = b
		}
		r := env.do("GET", "/api/v1/config/status", nil, "X-API-Key", keyA)
		switch r.StatusCode {
		case http.StatusOK:
			ok++
		case http.StatusTooManyRequests:
			checkError(t, r, 429, "E4004")
			if ra, _ := strconv.Atoi(r.Header.Get("Retry-After")); ra < 1 || ra > 60 {
				t.Errorf("Retry-After = %q", r.Header.Get("Retry-After"))
			}
		default:
			t.Fatalf("status %d: %s", r.StatusCode, r.body)
		}
	}
	if ok != 4 {
		t.Errorf("admitted %d of 8 across two replicas, want 4", ok)
	}
	r := a.do("GET", "/api/v1/config/status", nil, "X-API-Key", keyB)
	if r.StatusCode != 200 {
		t.Fatalf("second key refused: %d %s", r.StatusCode, r.body)
	}
	if r.Header.Get("X-RateLimit-Limit") != "4" || r.Header.Get("X-RateLimit-Remaining") != "3" {
		t.Errorf("headers limit=%q remaining=%q", r.Header.Get("X-RateLimit-Limit"), r.Header.Get("X-RateLimit-Remaining"))
	}
	if reset, _ := strconv.ParseInt(r.Header.Get("X-RateLimit-Reset"), 10, 64); reset < time.Now().Unix() || reset > time.Now().Add(61*time.Second).Unix() {
		t.Errorf("X-RateLimit-Reset = %q", r.Header.Get("X-RateLimit-Reset"))
	}
}

// TestRateLimitRedisOutage serves through a Redis that goes away (a proxy is stopped)
// and comes back: no request fails, and counting returns to Redis.
func TestRateLimitRedisOutage(t *testing.T) {
	rdb, prefix := storetest.Redis(t)
	proxy := storetest.NewProxy(t, rdb.Options().Addr)
	opt := *rdb.Options()
	opt.Addr, opt.MaxRetries, opt.DialTimeout = proxy.Addr(), -1, 200*time.Millisecond
	viaProxy := redis.NewClient(&opt)
	defer viaProxy.Close()
	l := newLimiter(t, viaProxy, prefix, map[string]limits.Rate{limits.GroupOps: {Limit: 1000, Period: time.Minute}})
	env := newEnv(t, withLimiter(l))
	key, _ := env.newKey(nil, nil, ScopeAdmin)
	get := func(phase string, n int) {
		for i := 0; i < n; i++ {
			if r := env.do("GET", "/api/v1/config/status", nil, "X-API-Key", key); r.StatusCode != 200 {
				t.Fatalf("%s: request %d failed: %d %s", phase, i, r.StatusCode, r.body)
			}
		}
	}
	get("before", 3)
	proxy.Refuse()
	get("redis down", 10)
	if l.Fallbacks() < 10 {
		t.Errorf("fallbacks = %d, want ≥ 10", l.Fallbacks())
	}
	proxy.Heal()
	// The breaker's probe (every 20 ms here) finds Redis back; then nothing is local.
	storetest.WaitFor(t, "counting in Redis again", func() bool {
		before := l.Fallbacks()
		get("recovered", 1)
		return l.Fallbacks() == before
	})
	before := l.Fallbacks()
	get("recovered", 3)
	if l.Fallbacks() != before {
		t.Errorf("still counting locally after Redis came back")
	}
}

func TestRateLimitAnonymousByIP(t *testing.T) {
	l := newLimiter(t, nil, "", map[string]limits.Rate{"t": {Limit: 2, Period: time.Minute}})
	env := newEnv(t, withLimiter(l), func(_ *Config, d *Deps) {
		d.Ops.TrustedProxies = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	})
	h := env.srv.limited("t", http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { w.WriteHeader(204) }))
	call := func(xff string) int {
		req, _ := http.NewRequest("GET", "/x", nil)
		req.RemoteAddr = "127.0.0.1:5555"
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
		}
		w := newRecorder()
		h.ServeHTTP(w, req)
		return w.Code
	}
	for i, want := range []int{204, 204, 429} {
		if got := call("203.0.113.9, 127.0.0.2"); got != want {
			t.Errorf("client 203.0.113.9 request %d: %d, want %d", i, got, want)
		}
	}
	if got := call("198.51.100.1"); got != 204 {
		t.Errorf("another client behind the proxy: %d", got)
	}
	untrusted := newEnv(t, withLimiter(l))
	req, _ := http.NewRequest("GET", "/x", nil)
	req.RemoteAddr = "192.0.2.1:1"
	req.Header.Set("X-Forwarded-For", "203.0.113.9")
	if ip := untrusted.srv.clientIP(req); ip != "192.0.2.1" {
		t.Errorf("untrusted peer's X-Forwarded-For believed: %s", ip)
	}
}

func TestParseTrustedProxies(t *testing.T) {
	got, err := ParseTrustedProxies("10.0.0.0/8, 192.168.1.7,::1")
	if err != nil || len(got) != 3 || got[1].Bits() != 32 || got[2].Bits() != 128 {
		t.Fatalf("got %v, %v", got, err)
	}
	if _, err := ParseTrustedProxies("10.0.0.0/33"); err == nil {
		t.Error("bad prefix accepted")
	}
}

// BenchmarkLimitedMiddleware is the cost the rate limit adds to one request (memory
// limiter, headers included).
func BenchmarkLimitedMiddleware(b *testing.B) {
	l, _ := limits.NewLimiter(limits.Config{Rules: map[string]limits.Rate{"x": {Limit: 1 << 40, Period: time.Hour}}}, limits.Deps{})
	s := &Server{deps: Deps{Ops: OpsDeps{Limiter: l}}}
	h := s.limited("x", http.HandlerFunc(func(http.ResponseWriter, *http.Request) {}))
	req, _ := http.NewRequest("GET", "/x", nil)
	req.RemoteAddr = "192.0.2.1:1234"
	w := newRecorder()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		h.ServeHTTP(w, req)
	}
}

// TestLimitInEngine: the one-shot generation routes hand their rate limit to the
// engine (Request.Admit). The outcome is the middleware's: headers on answers, 429
// E4004 with Retry-After when over, a cached answer refused too, nothing started
// upstream for a refused request. A request refused before the engine (a bad body)
// is not counted.
func TestLimitInEngine(t *testing.T) {
	l, err := limits.NewLimiter(limits.Config{Rules: map[string]limits.Rate{
		limits.GroupGeneration: {Limit: 2, Period: time.Minute},
		limits.GroupCompletion: {Limit: 1, Period: time.Minute}}}, limits.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	ce := newCodeEnv(t, codeOpts{mod: withLimiter(l)})
	body := map[string]any{"prompt": "sort a list of integers", "temperature": 0}
	bad := ce.do("POST", "/api/v1/code/generate", map[string]any{"prompt": ""}, ce.auth()...)
	if bad.StatusCode/100 != 4 || bad.StatusCode == 429 || bad.Header.Get("X-RateLimit-Limit") != "" {
		t.Fatalf("bad body: %d %s (limit header %q)", bad.StatusCode, bad.body, bad.Header.Get("X-RateLimit-Limit"))
	}
	for i, remaining := range []string{"1", "0"} {
		r := ce.do("POST", "/api/v1/code/generate", body, ce.auth()...)
		if r.StatusCode != 200 || r.Header.Get("X-RateLimit-Limit") != "2" || r.Header.Get("X-RateLimit-Remaining") != remaining {
			t.Fatalf("request %d: %d limit=%q remaining=%q %s", i, r.StatusCode, r.Header.Get("X-RateLimit-Limit"),
				r.Header.Get("X-RateLimit-Remaining"), r.body)
		}
		if cached := r.json(t)["cached"]; cached != (i == 1) {
			t.Fatalf("request %d: cached = %v", i, cached)
		}
	}
	over := ce.do("POST", "/api/v1/code/generate", body, ce.auth()...)
	checkError(t, over, 429, "E4004")
	if ra, _ := strconv.Atoi(over.Header.Get("Retry-After")); ra < 1 || over.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("429 headers: Retry-After %q, remaining %q", over.Header.Get("Retry-After"), over.Header.Get("X-RateLimit-Remaining"))
	}
	fresh := ce.do("POST", "/api/v1/code/generate", map[string]any{"prompt": "a prompt never asked", "temperature": 0.9}, ce.auth()...)
	checkError(t, fresh, 429, "E4004")
	if n := ce.sim.Stats().Requests; n != 1 {
		t.Errorf("upstream requests = %d, want 1 (the first miss only)", n)
	}
	if r := ce.do("POST", "/api/v1/code/complete", map[string]any{"prefix": "def f():"}, ce.auth()...); r.StatusCode != 200 {
		t.Fatalf("complete: %d %s", r.StatusCode, r.body)
	}
	checkError(t, ce.do("POST", "/api/v1/code/complete", map[string]any{"prefix": "def g():"}, ce.auth()...), 429, "E4004")
}
