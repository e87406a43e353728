package realtime

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

// gathered returns every sample of metric name on reg, keyed by its labels' values.
func gathered(t *testing.T, reg *prometheus.Registry, name string) map[string]float64 {
	t.Helper()
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			key := ""
			for _, l := range m.GetLabel() {
				key += l.GetValue()
			}
			out[key] = value(m)
		}
	}
	return out
}

func value(m *dto.Metric) float64 {
	switch {
	case m.Counter != nil:
		return m.Counter.GetValue()
	case m.Gauge != nil:
		return m.Gauge.GetValue()
	}
	return -1
}

func newTestMetrics(t *testing.T) (*Metrics, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	m, err := NewMetrics(MetricsConfig{NoRuntime: true}, reg)
	if err != nil {
		t.Fatal(err)
	}
	return m, reg
}

// TestMetricsSeriesFromTheStart: hapa_cache_errors_total has a series per known cache
// namespace before any error, so that an alert on its rate can fire on the first one.
func TestMetricsSeriesFromTheStart(t *testing.T) {
	_, reg := newTestMetrics(t)
	got := gathered(t, reg, "hapa_cache_errors_total")
	want := map[string]float64{NamespaceResponses: 0, NamespaceProfiles: 0}
	if len(got) != len(want) || got[NamespaceResponses] != 0 || got[NamespaceProfiles] != 0 {
		t.Fatalf("hapa_cache_errors_total at start: %v, want %v", got, want)
	}
}

func TestMetricsDependencyUp(t *testing.T) {
	m, reg := newTestMetrics(t)
	m.DependencyUp("redis", true)
	m.DependencyUp("postgres", true)
	m.DependencyUp("redis", false)
	if got := gathered(t, reg, "hapa_dependency_up"); len(got) != 2 || got["redis"] != 0 || got["postgres"] != 1 {
		t.Fatalf("hapa_dependency_up = %v", got)
	}
}
