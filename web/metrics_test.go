package web

import (
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/realtime/limits"
	"github.com/hapa-project/hapa/vllm"
)

type fakeReplicas []vllm.ReplicaState

func (f fakeReplicas) Replicas() []vllm.ReplicaState { return f }

// scrape returns the value of the first sample whose line starts with series.
func scrape(t *testing.T, base string) string {
	t.Helper()
	res, err := http.Get(base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return string(b)
}

func sample(t *testing.T, text, series string) float64 {
	t.Helper()
	m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` ([0-9.e+-]+)$`).FindStringSubmatch(text)
	if m == nil {
		t.Fatalf("series %s not found", series)
	}
	v, _ := strconv.ParseFloat(m[1], 64)
	return v
}

func TestMetricsEndpoint(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := realtime.NewMetrics(realtime.MetricsConfig{}, reg)
	if err != nil {
		t.Fatal(err)
	}
	reg.MustRegister(realtime.NewScrapeCollector(fakeReplicas{{URL: "http://vllm-a:8000", Healthy: true, InFlight: 3}, {URL: "http://vllm-b:8000"}},
		func() (int, int64) { return 7, 2 }))
	l, _ := limits.NewLimiter(limits.Config{Rules: map[string]limits.Rate{"ops": {Limit: 1, Period: time.Minute}}},
		limits.Deps{Observer: m})
	env := newEnv(t, func(_ *Config, d *Deps) {
		d.Metrics = promhttp.HandlerFor(reg, promhttp.HandlerOpts{})
		d.Ops = OpsDeps{Observer: m, Limiter: l}
	})
	admin, _ := env.newKey(nil, nil, ScopeAdmin)

	env.do("GET", "/health", nil)
	env.do("GET", "/api/v1/config/status", nil, "X-API-Key", admin)
	env.do("GET", "/api/v1/config/status", nil, "X-API-Key", admin) // 429
	env.do("GET", "/api/v1/errors/incidents/INC-1", nil)            // 401
	env.do("GET", "/no/such/path/12345", nil)                       // 404, unmatched
	m.CacheHit(realtime.NamespaceResponses)
	m.CacheMiss(realtime.NamespaceResponses)
	m.Coalesced()
	used := vllm.Usage{PromptTokens: 12, CompletionTokens: 34, TotalTokens: 46}
	m.StreamDone("code_generation", realtime.KindGeneration, "stop", 80*time.Millisecond, 900*time.Millisecond, used, used, "upstream")
	m.StreamDone("code_generation", realtime.KindGeneration, "stop", 0, time.Millisecond, used, vllm.Usage{}, "cache")
	m.StreamDone("autocomplete", realtime.KindCompletion, "E5005", 0, time.Millisecond, vllm.Usage{}, vllm.Usage{}, "upstream")
	m.SessionOpened()
	m.StreamOpened(realtime.KindCompletion)
	m.FrameReceived("completion.create")
	m.FrameReceived("made.up.type")

	text := scrape(t, env.ts.URL)
	for series, want := range map[string]float64{
		`hapa_requests_total{method="GET",route="GET /health",status="200"}`:                    1,
		`hapa_requests_total{method="GET",route="GET /api/v1/config/status",status="200"}`:      1,
		`hapa_requests_total{method="GET",route="GET /api/v1/config/status",status="429"}`:      1,
		`hapa_requests_total{method="GET",route="unmatched",status="404"}`:                      1,
		`hapa_request_duration_seconds_count{method="GET",route="GET /api/v1/config/status"}`:   2,
		`hapa_errors_total{code="E4004"}`:                                                       1,
		`hapa_errors_total{code="E4003"}`:                                                       1,
		`hapa_errors_total{code="E4011"}`:                                                       1,
		`hapa_ratelimit_rejections_total{group="ops"}`:                                          1,
		`hapa_cache_hits_total{namespace="code_generation"}`:                                    1,
		`hapa_cache_misses_total{namespace="code_generation"}`:                                  1,
		`hapa_coalesced_requests_total`:                                                         1,
		`hapa_ai_tokens_used_total{adapter="code_generation",direction="in"}`:                   12,
		`hapa_ai_tokens_used_total{adapter="code_generation",direction="out"}`:                  34,
		`hapa_tokens_served_total{adapter="code_generation",direction="out",source="upstream"}`: 34,
		`hapa_tokens_served_total{adapter="code_generation",direction="out",source="cache"}`:    34,
		`hapa_time_to_first_token_seconds_count{adapter="code_generation",kind="generation"}`:   1,
		`hapa_stream_duration_seconds_count`:                                                    3,
		`hapa_streams_total{kind="completion",outcome="E5005"}`:                                 1,
		`hapa_ws_sessions`: 1,
		`hapa_ws_streams`:  1,
		`hapa_upstream_in_flight{replica="http://vllm-a:8000"}`: 3,
		`hapa_upstream_healthy{replica="http://vllm-a:8000"}`:   1,
		`hapa_upstream_healthy{replica="http://vllm-b:8000"}`:   0,
		`hapa_request_log_queue_depth`:                          7,
		`hapa_request_log_dropped_total`:                        2,
	} {
		if got := sample(t, text, series); got != want {
			t.Errorf("%s = %v, want %v", series, got, want)
		}
	}
	for _, name := range []string{"go_goroutines", "process_cpu_seconds_total"} {
		if !strings.Contains(text, name) {
			t.Errorf("runtime collector %s missing", name)
		}
	}
	if strings.Contains(text, "12345") || strings.Contains(text, admin) {
		t.Error("raw path or key in a label")
	}
	// Moving: one more request shows up on the next scrape.
	env.do("GET", "/health", nil)
	if got := sample(t, scrape(t, env.ts.URL), `hapa_requests_total{method="GET",route="GET /health",status="200"}`); got != 2 {
		t.Errorf("counter did not move: %v", got)
	}
}

func TestMetricsErrorMonitoringOff(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := realtime.NewMetrics(realtime.MetricsConfig{NoErrorCounting: true, NoRuntime: true}, reg)
	if err != nil {
		t.Fatal(err)
	}
	m.Error(realtime.CodeInternal)
	mfs, _ := reg.Gather()
	for _, mf := range mfs {
		if mf.GetName() == "hapa_errors_total" && len(mf.GetMetric()) > 0 {
			t.Fatal("errors counted with ERROR_MONITORING_ENABLED=false")
		}
	}
}
