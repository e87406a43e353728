package sim

import (
	"bufio"
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// metrics holds the counters and histograms /metrics exposes under vLLM's names.
type metrics struct {
	mu           sync.Mutex
	promptTokens int64
	genTokens    int64
	success      [3]int64 // stop, length, abort
	ttft         histogram
	itl          histogram
}

func finishIndex(reason string) int {
	switch reason {
	case "stop":
		return 0
	case "length":
		return 1
	}
	return 2
}

// histogram is a Prometheus histogram over fixed bounds (seconds).
type histogram struct {
	bounds []float64
	counts []uint64 // per bucket, not cumulative; last is +Inf
	sum    float64
	count  uint64
}

func newHistogram(bounds []float64) histogram {
	return histogram{bounds: bounds, counts: make([]uint64, len(bounds)+1)}
}

func (h *histogram) observe(d time.Duration) {
	v := d.Seconds()
	i := 0
	for i < len(h.bounds) && v > h.bounds[i] {
		i++
	}
	h.counts[i]++
	h.sum += v
	h.count++
}

func newMetrics() *metrics {
	return &metrics{
		// vLLM's own buckets for these two histograms.
		ttft: newHistogram([]float64{0.001, 0.005, 0.01, 0.02, 0.04, 0.06, 0.08, 0.1, 0.25,
			0.5, 0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80, 160, 640, 2560}),
		itl: newHistogram([]float64{0.01, 0.025, 0.05, 0.075, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5,
			0.75, 1, 2.5, 5, 7.5, 10, 20, 40, 80}),
	}
}

// finish records one ended request: its reason, token counts and latencies.
func (m *metrics) finish(reason string, prompt, gen int, ttft time.Duration, itls []time.Duration) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.success[finishIndex(reason)]++
	m.promptTokens += int64(prompt)
	m.genTokens += int64(gen)
	if ttft >= 0 && gen > 0 {
		m.ttft.observe(ttft)
	}
	for _, d := range itls {
		m.itl.observe(d)
	}
}

// serveMetrics writes the Prometheus text exposition.
func (s *Server) serveMetrics(w http.ResponseWriter, _ *http.Request) {
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	b := bufio.NewWriter(w)
	defer b.Flush()
	label := `{model_name="` + s.cfg.Model + `"}`
	st := s.Stats()
	gauge := func(name, help string, v float64) {
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s gauge\n%s%s %s\n", name, help, name, name, label, fnum(v))
	}
	gauge("vllm:num_requests_running", "Number of requests in model execution batches.", float64(st.Running))
	gauge("vllm:num_requests_waiting", "Number of requests waiting to be processed.", float64(st.Waiting))
	gauge("vllm:kv_cache_usage_perc", "KV-cache usage. 1 means 100 percent usage.",
		float64(st.Running)/float64(s.cfg.MaxNumSeqs))

	m := s.metrics
	m.mu.Lock()
	defer m.mu.Unlock()
	counter := func(name, help string, v int64) {
		fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s counter\n%s%s %d\n", name, help, name, name, label, v)
	}
	counter("vllm:prompt_tokens_total", "Number of prefill tokens processed.", m.promptTokens)
	counter("vllm:generation_tokens_total", "Number of generation tokens processed.", m.genTokens)
	fmt.Fprintf(b, "# HELP vllm:request_success_total Count of successfully processed requests.\n# TYPE vllm:request_success_total counter\n")
	for i, r := range [...]string{"stop", "length", "abort"} {
		fmt.Fprintf(b, "vllm:request_success_total{finished_reason=%q,model_name=%q} %d\n", r, s.cfg.Model, m.success[i])
	}
	writeHistogram(b, "vllm:time_to_first_token_seconds", "Histogram of time to first token in seconds.", s.cfg.Model, &m.ttft)
	writeHistogram(b, "vllm:inter_token_latency_seconds", "Histogram of inter-token latency in seconds.", s.cfg.Model, &m.itl)
}

func writeHistogram(b *bufio.Writer, name, help, model string, h *histogram) {
	fmt.Fprintf(b, "# HELP %s %s\n# TYPE %s histogram\n", name, help, name)
	var cum uint64
	for i, bound := range h.bounds {
		cum += h.counts[i]
		fmt.Fprintf(b, "%s_bucket{le=%q,model_name=%q} %d\n", name, fnum(bound), model, cum)
	}
	cum += h.counts[len(h.bounds)]
	fmt.Fprintf(b, "%s_bucket{le=\"+Inf\",model_name=%q} %d\n", name, model, cum)
	fmt.Fprintf(b, "%s_sum{model_name=%q} %s\n%s_count{model_name=%q} %d\n", name, model, fnum(h.sum), name, model, h.count)
}

func fnum(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }
