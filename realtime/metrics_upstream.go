package realtime

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// UpstreamMetrics are the per-replica timings of vLLM requests, fed by the pool's
// OnDone hook: hapa_upstream_ttft_seconds{replica} (requests that produced a token) and
// hapa_upstream_request_duration_seconds{replica,outcome}, both from the start of the
// upstream request. Replica URLs are a bounded label (the configured pool).
type UpstreamMetrics struct {
	ttft     *prometheus.HistogramVec
	duration *prometheus.HistogramVec
}

// NewUpstreamMetrics registers the upstream histograms on reg.
func NewUpstreamMetrics(reg prometheus.Registerer) (*UpstreamMetrics, error) {
	m := &UpstreamMetrics{
		ttft: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hapa_upstream_ttft_seconds",
			Help: "Time from the start of a vLLM request to its first token, per replica.", Buckets: latencyBuckets}, []string{"replica"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "hapa_upstream_request_duration_seconds",
			Help:    "Duration of vLLM requests, per replica and outcome (ok, cancelled, client_error, overloaded, timeout, error).",
			Buckets: latencyBuckets}, []string{"replica", "outcome"}),
	}
	for _, c := range []prometheus.Collector{m.ttft, m.duration} {
		if err := reg.Register(c); err != nil {
			return nil, err
		}
	}
	return m, nil
}

// Done records one finished upstream request (vllm.PoolConfig.OnDone).
func (m *UpstreamMetrics) Done(replica string, ttft, total time.Duration, outcome string) {
	if ttft > 0 {
		m.ttft.WithLabelValues(replica).Observe(ttft.Seconds())
	}
	m.duration.WithLabelValues(replica, outcome).Observe(total.Seconds())
}
