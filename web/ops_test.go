package web

import (
	"context"
	"net/http"
	"regexp"
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/realtime/limits"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
)

func i64(v int64) *int64 { return &v }

// seedOps fills db with known traffic: 10 request-log rows of the last hour (two
// adapters, one cache hit, two failures) and incidents of 30 minutes, 3 hours and 3 days
// ago (one of them the failure of a logged request).
func seedOps(t *testing.T, db *store.DB, now time.Time) []store.Incident {
	t.Helper()
	ctx := context.Background()
	var rows []store.RequestLogRow
	for i := 0; i < 10; i++ {
		r := store.RequestLogRow{CreatedAt: now.Add(-time.Duration(i+1) * time.Minute), RequestID: "req-" + string(rune('a'+i)),
			KeyID: i64(1), Route: "POST /api/v1/code/generate", Kind: "generation", Adapter: "code_generation",
			TokensIn: 10, TokensOut: 20, TTFTMs: float64(10 * (i + 1)), LatencyMs: float64(100 * (i + 1)), Status: 200}
		if i >= 6 {
			r.Adapter, r.Kind = "autocomplete", "completion"
		}
		if i == 0 {
			r.Cached = true
		}
		if i == 8 {
			r.Status, r.ErrorCode, r.TokensOut, r.TTFTMs = 503, "E5005", 0, 0
		}
		if i == 9 {
			r.Status, r.ErrorCode, r.TokensOut, r.TTFTMs = 422, "E4008", 0, 0
		}
		if !r.Cached { // a cache hit is served tokens, not model tokens
			r.UpstreamIn, r.UpstreamOut = r.TokensIn, r.TokensOut
		}
		rows = append(rows, r)
	}
	if err := db.RequestLog().InsertBatch(ctx, rows); err != nil {
		t.Fatal(err)
	}
	var out []store.Incident
	for _, in := range []store.Incident{
		{ID: "INC-20260101-0000000A", Code: "E5005", CreatedAt: now.Add(-9 * time.Minute), RequestID: "req-i", Path: "/api/v1/code/generate", Message: "AI model unavailable", Detail: "no healthy replica"},
		{ID: "INC-20260101-0000000B", Code: "E5003", CreatedAt: now.Add(-30 * time.Minute), RequestID: "req-x", Path: "/api/v1/users/me", Message: "Database error"},
		{ID: "INC-20260101-0000000C", Code: "E5003", CreatedAt: now.Add(-3 * time.Hour), Path: "/api/v1/users/me"},
		{ID: "INC-20260101-0000000D", Code: "E5001", CreatedAt: now.Add(-72 * time.Hour), Path: "/api/v1/code/generate"},
	} {
		got, err := db.Incidents().Insert(ctx, in)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, got)
	}
	return out
}

type opsFixture struct {
	env    *testEnv
	admin  string
	user   string
	cache  *store.MemoryCache
	events *realtime.Events
	got    []realtime.ClusterEvent
}

func newOpsFixture(t *testing.T, db *store.DB) *opsFixture {
	f := &opsFixture{cache: store.NewMemoryCache(100, nil), events: realtime.NewEvents(nil, "", nil)}
	f.events.Subscribe(func(ev realtime.ClusterEvent) { f.got = append(f.got, ev) })
	l, err := limits.NewLimiter(limits.Config{}, limits.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	f.env = newEnv(t, func(_ *Config, d *Deps) {
		d.DB = db
		d.Ops = OpsDeps{Limiter: l, Cache: f.cache, Events: f.events, LastCleanup: func() time.Time { return time.Unix(1700000000, 0) }}
		d.ConfigStatus = func() map[string]any { return map[string]any{"SECRET_KEY": "[redacted]", "PORT": 8000} }
	})
	mk := func(scopes ...string) string {
		plain, _, err := db.APIKeys().Create(context.Background(), store.NewKey{Scopes: scopes})
		if err != nil {
			t.Fatal(err)
		}
		return plain
	}
	f.admin, f.user = mk(ScopeAdmin), mk(ScopeCodeGeneration)
	return f
}

func (f *opsFixture) get(path, key string) resp {
	return f.env.do("GET", path, nil, "X-API-Key", key)
}

func TestOpsEndpoints(t *testing.T) {
	for name, db := range storetest.DBs(t) {
		t.Run(name, func(t *testing.T) {
			seedOps(t, db, time.Now().UTC())
			f := newOpsFixture(t, db)
			t.Run("admin scope required", func(t *testing.T) {
				for _, p := range []string{"/api/v1/errors/dashboard", "/api/v1/errors/patterns", "/api/v1/analytics/performance",
					"/api/v1/config/status", "/api/v1/errors/incidents/INC-20260101-0000000A"} {
					checkError(t, f.get(p, f.user), 403, "E4005")
					checkError(t, f.env.do("GET", p, nil), 401, "E4003")
				}
			})
			t.Run("dashboard", func(t *testing.T) {
				r := f.get("/api/v1/errors/dashboard", f.admin)
				if r.StatusCode != 200 || r.Header.Get("X-RateLimit-Limit") != "100" {
					t.Fatalf("%d %v %s", r.StatusCode, r.Header, r.body)
				}
				m := r.json(t)
				// 2 failed rows + incidents B (30m, no row) and C (3h) — A is row req-i's.
				if m["total_errors"] != 4.0 || m["errors_last_24h"] != 4.0 || m["error_rate"] != 0.2 || m["requests_last_24h"] != 10.0 {
					t.Errorf("totals: %s", r.body)
				}
				top := m["top_error_codes"].([]any)
				first := top[0].(map[string]any)
				if len(top) != 3 || first["code"] != "E5003" || first["count"] != 2.0 || first["description"] != "Database error" {
					t.Errorf("top_error_codes: %v", top)
				}
				recent := m["recent_incidents"].([]any)
				if len(recent) != 4 || recent[0].(map[string]any)["incident_id"] != "INC-20260101-0000000A" ||
					recent[0].(map[string]any)["status"] != "open" {
					t.Errorf("recent_incidents: %v", recent)
				}
			})
			t.Run("patterns", func(t *testing.T) {
				for period, want := range map[string]struct {
					total, buckets int
				}{"1h": {2, 12}, "24h": {3, 24}, "7d": {4, 28}, "30d": {4, 30}} {
					m := f.get("/api/v1/errors/patterns?period="+period, f.admin).json(t)
					if m["total_errors"] != float64(want.total) {
						t.Errorf("%s: total_errors %v, want %d", period, m["total_errors"], want.total)
					}
					if n := len(m["buckets"].([]any)); n < want.buckets || n > want.buckets+1 {
						t.Errorf("%s: %d buckets, want %d", period, n, want.buckets)
					}
					sum := 0.0
					for _, b := range m["buckets"].([]any) {
						sum += b.(map[string]any)["total"].(float64)
					}
					if sum != float64(want.total) {
						t.Errorf("%s: buckets sum to %v", period, sum)
					}
				}
				m := f.get("/api/v1/errors/patterns", f.admin).json(t)
				if m["period"] != "24h" || m["bucket_seconds"] != 3600.0 {
					t.Errorf("default period: %v %v", m["period"], m["bucket_seconds"])
				}
				p := m["patterns"].([]any)[0].(map[string]any)
				if p["code"] != "E5003" || p["count"] != 2.0 || p["first_seen"] == "" || p["last_seen"] == "" {
					t.Errorf("pattern %v", p)
				}
				checkError(t, f.get("/api/v1/errors/patterns?period=2h", f.admin), 422, "E4008")
			})
			t.Run("incident", func(t *testing.T) {
				m := f.get("/api/v1/errors/incidents/INC-20260101-0000000A", f.admin).json(t)
				if m["incident_id"] != "INC-20260101-0000000A" || m["error_code"] != "E5005" || m["request_id"] != "req-i" ||
					m["detail"] != "no healthy replica" || m["status"] != "open" {
					t.Errorf("incident %v", m)
				}
				checkError(t, f.get("/api/v1/errors/incidents/INC-20260101-FFFFFFFF", f.admin), 404, "E4011")
			})
			t.Run("performance", func(t *testing.T) {
				m := f.get("/api/v1/analytics/performance?period=1h", f.admin).json(t)
				// Latencies 100…1000 ms: average 550, p50 500, p99 1000.
				if m["requests"] != 10.0 || m["avg_response_time"] != 550.0 || m["cache_hit_rate"] != 0.1 ||
					m["requests_per_minute"] != 0.17 || m["error_rate"] != 0.2 {
					t.Errorf("performance: %s", f.get("/api/v1/analytics/performance?period=1h", f.admin).body)
				}
				u := m["ai_model_usage"].(map[string]any)
				if u["total_tokens"] != 230.0 || u["served_tokens"] != 260.0 || u["avg_tokens_per_request"] != 23.0 {
					t.Errorf("ai_model_usage %v", u)
				}
				lat, ttft := m["latency_ms"].(map[string]any), m["ttft_ms"].(map[string]any)
				if lat["p50"] != 500.0 || lat["p99"] != 1000.0 || ttft["p50"] != 40.0 || ttft["p99"] != 80.0 {
					t.Errorf("latency %v ttft %v", lat, ttft)
				}
				pa := m["per_adapter"].(map[string]any)
				ac := pa["autocomplete"].(map[string]any)
				if len(pa) != 2 || ac["requests"] != 4.0 || ac["p50"] != 800.0 || ac["tokens"] != 80.0 {
					t.Errorf("per_adapter %v", pa)
				}
				checkError(t, f.get("/api/v1/analytics/performance?period=forever", f.admin), 422, "E4008")
				if m := f.get("/api/v1/analytics/performance", f.admin).json(t); m["period"] != "24h" || m["requests"] != 10.0 {
					t.Errorf("default period: %v", m)
				}
			})
			t.Run("config status", func(t *testing.T) {
				m := f.get("/api/v1/config/status", f.admin).json(t)
				cfg := m["config"].(map[string]any)
				lim := m["rate_limits"].(map[string]any)
				if cfg["SECRET_KEY"] != "[redacted]" || lim["ops"] != "100/1m0s" || lim["completion"] != "600/1m0s" ||
					m["last_cleanup"] != "2023-11-14T22:13:20Z" {
					t.Errorf("config status %v", m)
				}
			})
			t.Run("cache clear", func(t *testing.T) {
				ctx := context.Background()
				f.cache.Set(ctx, realtime.NamespaceResponses, "a", []byte("x"), time.Minute)
				f.cache.Set(ctx, realtime.NamespaceResponses, "b", []byte("x"), time.Minute)
				f.cache.Set(ctx, realtime.NamespaceProfiles, "1", []byte("x"), time.Minute)
				del := func(body any) resp {
					return f.env.do("DELETE", "/api/v1/cache/clear", body, "X-API-Key", f.admin)
				}
				m := checkError(t, del(map[string]any{"cache_type": "code_generation"}), 400, "E4002")
				if !regexp.MustCompile(`confirm`).MatchString(m["message"].(string)) {
					t.Errorf("refusal does not say why: %v", m["message"])
				}
				checkError(t, del(map[string]any{"cache_type": "code_generation", "confirm": false}), 400, "E4002")
				checkError(t, del(map[string]any{"confirm": true}), 400, "E4002")
				checkError(t, del(map[string]any{"cache_type": "sessions", "confirm": true}), 422, "E4008")
				checkError(t, del(`{"cache_type":`), 400, "E4001")
				r := del(map[string]any{"cache_type": "code_generation", "confirm": true})
				if m := r.json(t); r.StatusCode != 200 || m["status"] != "success" || m["cleared"] != 2.0 || m["cache_type"] != "code_generation" {
					t.Fatalf("clear: %d %s", r.StatusCode, r.body)
				}
				if _, ok, _ := f.cache.Get(ctx, realtime.NamespaceProfiles, "1"); !ok {
					t.Error("profiles cleared by a code_generation clear")
				}
				r = del(map[string]any{"cache_type": "all", "confirm": true})
				if m := r.json(t); m["cleared"] != 1.0 {
					t.Errorf("clear all: %s", r.body)
				}
				if len(f.got) != 2 || f.got[0].Type != realtime.EventCacheCleared || f.got[0].Namespace != "code_generation" || f.got[1].Namespace != "" {
					t.Errorf("events %+v", f.got)
				}
				checkError(t, f.env.do("DELETE", "/api/v1/cache/clear", map[string]any{"cache_type": "all", "confirm": true}, "X-API-Key", f.user), 403, "E4005")
			})
			t.Run("ops rate limit", func(t *testing.T) {
				var last resp
				for i := 0; i < 101; i++ {
					last = f.get("/api/v1/config/status", f.admin)
				}
				checkError(t, last, http.StatusTooManyRequests, "E4004")
				if last.Header.Get("Retry-After") == "" || last.Header.Get("X-RateLimit-Remaining") != "0" {
					t.Errorf("429 headers: %v", last.Header)
				}
			})
		})
	}
}
