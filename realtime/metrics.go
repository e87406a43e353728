package realtime

import (
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"

	"github.com/hapa-project/hapa/vllm"
)

// MetricsConfig configures Metrics. A zero field means the documented default.
type MetricsConfig struct {
	NoErrorCounting bool // ERROR_MONITORING_ENABLED=false: hapa_errors_total stays at zero
	NoRuntime       bool // do not register the Go and process collectors (tests)
}

// Metrics holds HAPA's Prometheus collectors. It implements EngineObserver,
// LimitObserver and the hub's session/stream gauges, and is registered on the registry
// passed to NewMetrics (never the global one). Labels are bounded: route patterns,
// methods, status codes, adapters, kinds, catalogue codes, cache namespaces, limiter
// groups and replica URLs — never keys, users or raw paths.
type Metrics struct {
	cfg MetricsConfig

	requests      *prometheus.CounterVec   // route, method, status
	duration      *prometheus.HistogramVec // route, method
	errors        *prometheus.CounterVec   // code
	cacheHits     *prometheus.CounterVec   // namespace
	cacheMisses   *prometheus.CounterVec   // namespace
	cacheErrors   *prometheus.CounterVec   // namespace
	tokens        *prometheus.CounterVec   // adapter, direction
	served        *prometheus.CounterVec   // adapter, direction, source
	coalesced     prometheus.Counter
	ttft          *prometheus.HistogramVec // adapter, kind
	streamDur     prometheus.Histogram
	streams       *prometheus.CounterVec // kind, outcome
	wsSessions    prometheus.Gauge
	wsStreams     prometheus.Gauge
	wsFrames      *prometheus.CounterVec // direction, type
	wsCloses      *prometheus.CounterVec // code
	rejections    *prometheus.CounterVec // group
	incidentsSeen *prometheus.CounterVec // code
	dependencyUp  *prometheus.GaugeVec   // dependency
	completionEvs *prometheus.CounterVec // event, language
}

// latencyBuckets cover 5 ms … 2 min: completions are tens of milliseconds, long
// generations a minute or more.
var latencyBuckets = []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 60, 120}

// NewMetrics builds the collectors and registers them (with the Go and process
// collectors unless cfg.NoRuntime) on reg.
func NewMetrics(cfg MetricsConfig, reg prometheus.Registerer) (*Metrics, error) {
	if reg == nil {
		return nil, errors.New("realtime: NewMetrics: a registry is required")
	}
	m := &Metrics{cfg: cfg,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hapa_requests_total",
			Help: "HTTP requests by route pattern, method and status."}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hapa_request_duration_seconds",
			Help: "HTTP request duration (to the end of the body, streams included).", Buckets: latencyBuckets}, []string{"route", "method"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hapa_errors_total",
			Help: "Errors answered to clients, by catalogue code."}, []string{"code"}),
		cacheHits: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hapa_cache_hits_total",
			Help: "Response cache hits by namespace."}, []string{"namespace"}),
		cacheMisses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hapa_cache_misses_total",
			Help: "Response cache misses by namespace."}, []string{"namespace"}),
		cacheErrors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hapa_cache_errors_total",
			Help: "Cache failures (bypassed, E5002) by namespace."}, []string{"namespace"}),
		tokens: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hapa_ai_tokens_used_total",
			Help: "Model tokens vLLM produced, by adapter and direction (in: prompt, out: completion); cache hits and coalesced joiners add none."}, []string{"adapter", "direction"}),
		served: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hapa_tokens_served_total",
			Help: "Tokens delivered to callers, by adapter, direction and source (upstream, coalesced, cache); cancelled streams count what they received."}, []string{"adapter", "direction", "source"}),
		coalesced: prometheus.NewCounter(prometheus.CounterOpts{Name: "hapa_coalesced_requests_total",
			Help: "Requests that joined an identical in-flight generation."}),
		ttft: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hapa_time_to_first_token_seconds",
			Help: "Time from request to first text, by adapter and kind.", Buckets: latencyBuckets}, []string{"adapter", "kind"}),
		streamDur: prometheus.NewHistogram(prometheus.HistogramOpts{Name: "hapa_stream_duration_seconds",
			Help: "Duration of finished streams.", Buckets: latencyBuckets}),
		streams: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hapa_streams_total",
			Help: "Finished streams by kind and outcome (finish reason or error code)."}, []string{"kind", "outcome"}),
		wsSessions: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hapa_ws_sessions",
			Help: "Open WebSocket sessions."}),
		wsStreams: prometheus.NewGauge(prometheus.GaugeOpts{Name: "hapa_ws_streams",
			Help: "In-flight streams on WebSocket sessions."}),
		wsFrames: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hapa_ws_frames_total",
			Help: "WebSocket frames by direction (in, out) and event type."}, []string{"direction", "type"}),
		wsCloses: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hapa_ws_closes_total",
			Help: "Closed WebSocket sessions by close code (4008: slow consumer)."}, []string{"code"}),
		rejections: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hapa_ratelimit_rejections_total",
			Help: "Requests refused by the rate limiter, by route group."}, []string{"group"}),
		incidentsSeen: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hapa_incidents_total",
			Help: "Incidents recorded, by catalogue code."}, []string{"code"}),
		dependencyUp: prometheus.NewGaugeVec(prometheus.GaugeOpts{Name: "hapa_dependency_up",
			Help: "1 while a dependency (redis, postgres) is reachable, 0 while its breaker is open."}, []string{"dependency"}),
		completionEvs: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "hapa_completion_events_total",
			Help: "Completion feedback taken (shown, accepted, dismissed) by language; a repeated report counts once."}, []string{"event", "language"}),
	}
	// The cache-error series exist from the start, so that an alert on their rate has
	// a series to read before the first failure.
	for _, ns := range []string{NamespaceResponses, NamespaceProfiles} {
		m.cacheErrors.WithLabelValues(ns)
	}
	cs := []prometheus.Collector{m.requests, m.duration, m.errors, m.cacheHits, m.cacheMisses, m.cacheErrors,
		m.tokens, m.served, m.coalesced, m.ttft, m.streamDur, m.streams, m.wsSessions, m.wsStreams, m.wsFrames, m.wsCloses, m.rejections, m.incidentsSeen,
		m.dependencyUp, m.completionEvs}
	if !cfg.NoRuntime {
		cs = append(cs, collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	}
	for _, c := range cs {
		if err := reg.Register(c); err != nil {
			return nil, fmt.Errorf("realtime: register metrics: %w", err)
		}
	}
	return m, nil
}

// CompletionEvent counts one completion feedback report (FeedbackObserver).
func (m *Metrics) CompletionEvent(event, language string) {
	m.completionEvs.WithLabelValues(event, language).Inc()
}

// Request records one HTTP request; route is the matched pattern ("" → "unmatched").
func (m *Metrics) Request(route, method string, status int, d time.Duration) {
	if route == "" {
		route = "unmatched"
	}
	m.requests.WithLabelValues(route, method, statusLabel(status)).Inc()
	m.duration.WithLabelValues(route, method).Observe(d.Seconds())
}

// Error counts one error answered to a client. Codes outside the catalogue count as
// E5004 so that the label stays bounded.
func (m *Metrics) Error(code Code) {
	if m.cfg.NoErrorCounting {
		return
	}
	m.errors.WithLabelValues(string(Lookup(code).Code)).Inc()
}

// Incident counts one recorded incident.
func (m *Metrics) Incident(code Code) {
	m.incidentsSeen.WithLabelValues(string(Lookup(code).Code)).Inc()
}

// CacheHit implements EngineObserver.
func (m *Metrics) CacheHit(ns string) { m.cacheHits.WithLabelValues(ns).Inc() }

// CacheMiss implements EngineObserver.
func (m *Metrics) CacheMiss(ns string) { m.cacheMisses.WithLabelValues(ns).Inc() }

// CacheError implements EngineObserver.
func (m *Metrics) CacheError(ns string) { m.cacheErrors.WithLabelValues(ns).Inc() }

// DependencyUp sets hapa_dependency_up{dependency=name}: 1 while the dependency is
// reachable, 0 while it is down. name is a fixed word of the wiring ("redis",
// "postgres"), never input.
func (m *Metrics) DependencyUp(name string, up bool) {
	v := 0.0
	if up {
		v = 1
	}
	m.dependencyUp.WithLabelValues(name).Set(v)
}

// Coalesced implements EngineObserver.
func (m *Metrics) Coalesced() { m.coalesced.Inc() }

// StreamDone implements EngineObserver: tokens (upstream and delivered), TTFT (streams
// that produced text), duration and outcome of one finished subscription.
func (m *Metrics) StreamDone(adapter string, kind Kind, outcome string, ttft, latency time.Duration, delivered, upstream vllm.Usage, source string) {
	if adapter == "" {
		adapter = "unknown"
	}
	add := func(c *prometheus.CounterVec, n int, labels ...string) {
		if n > 0 {
			c.WithLabelValues(labels...).Add(float64(n))
		}
	}
	add(m.tokens, upstream.PromptTokens, adapter, "in")
	add(m.tokens, upstream.CompletionTokens, adapter, "out")
	add(m.served, delivered.PromptTokens, adapter, "in", source)
	add(m.served, delivered.CompletionTokens, adapter, "out", source)
	if ttft > 0 {
		m.ttft.WithLabelValues(adapter, string(kind)).Observe(ttft.Seconds())
	}
	m.streamDur.Observe(latency.Seconds())
	m.streams.WithLabelValues(string(kind), outcomeLabel(outcome)).Inc()
}

// RateLimited implements LimitObserver.
func (m *Metrics) RateLimited(group string) { m.rejections.WithLabelValues(group).Inc() }

// SessionOpened implements HubObserver: one more open WebSocket session.
func (m *Metrics) SessionOpened() { m.wsSessions.Inc() }

// SessionClosed implements HubObserver: one session fewer, counted by close code.
func (m *Metrics) SessionClosed(code int) {
	m.wsSessions.Dec()
	m.wsCloses.WithLabelValues(closeLabel(code)).Inc()
}

// StreamOpened implements HubObserver.
func (m *Metrics) StreamOpened(Kind) { m.wsStreams.Inc() }

// StreamClosed implements HubObserver.
func (m *Metrics) StreamClosed(Kind, string) { m.wsStreams.Dec() }

// FrameReceived implements HubObserver.
func (m *Metrics) FrameReceived(eventType string) {
	m.wsFrames.WithLabelValues("in", frameLabel(eventType)).Inc()
}

// FrameSent implements HubObserver.
func (m *Metrics) FrameSent(eventType string, bytes int) {
	m.wsFrames.WithLabelValues("out", frameLabel(eventType)).Inc()
}

// frameLabel keeps client-chosen event types out of labels: known types pass, the
// rest are "other".
func frameLabel(t string) string {
	switch t {
	case "session.update", "completion.create", "generation.create", "stream.cancel", "ping", "invalid", "completion.feedback",
		"session.created", "session.updated", "stream.started", "stream.delta", "stream.done", "stream.error",
		"error", "pong", "session.closing":
		return t
	}
	return "other"
}

// closeLabel is a WebSocket close code of the protocol, or "other".
func closeLabel(code int) string {
	switch code {
	case 1000, 1001, 1006, 1008, 1009, 1011, 1012, 4001, 4008, 4029:
		return fmt.Sprint(code)
	}
	return "other"
}

// outcomeLabel keeps the outcome label bounded: finish reasons and catalogue codes.
func outcomeLabel(o string) string {
	switch o {
	case "stop", "length", "cancelled":
		return o
	}
	return string(Lookup(Code(o)).Code)
}

// statusLabel is the decimal status (bounded by HTTP itself).
func statusLabel(s int) string {
	if s < 100 || s > 599 {
		return "0"
	}
	return fmt.Sprint(s)
}
