package realtime

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

func TestUpstreamMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	m, err := NewUpstreamMetrics(reg)
	if err != nil {
		t.Fatal(err)
	}
	m.Done("http://vllm-a:8000", 40*time.Millisecond, 900*time.Millisecond, "ok")
	m.Done("http://vllm-a:8000", 0, 5*time.Second, "timeout") // no token: no TTFT
	m.Done("http://vllm-b:8000", 60*time.Millisecond, 700*time.Millisecond, "ok")
	fams, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]map[string]uint64{} // family → label values → count
	for _, f := range fams {
		got[f.GetName()] = map[string]uint64{}
		for _, s := range f.GetMetric() {
			key := ""
			for _, l := range s.GetLabel() {
				key += l.GetValue() + " "
			}
			got[f.GetName()][key] = s.GetHistogram().GetSampleCount()
		}
	}
	want := map[string]map[string]uint64{
		"hapa_upstream_ttft_seconds": {"http://vllm-a:8000 ": 1, "http://vllm-b:8000 ": 1},
		"hapa_upstream_request_duration_seconds": {"ok http://vllm-a:8000 ": 1, "timeout http://vllm-a:8000 ": 1,
			"ok http://vllm-b:8000 ": 1},
	}
	for name, series := range want {
		for k, n := range series {
			if got[name][k] != n {
				t.Errorf("%s{%s}: %d observations, want %d (%v)", name, k, got[name][k], n, got[name])
			}
		}
	}
	if _, err := NewUpstreamMetrics(reg); err == nil {
		t.Fatal("registered twice")
	}
}
