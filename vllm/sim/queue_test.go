package sim

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestQueueAndMetrics(t *testing.T) {
	s, url := start(t, Config{MaxNumSeqs: 1, ITL: 5 * time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan struct{})
	go func() {
		defer close(done)
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/completions",
			strings.NewReader(`{"model":"prompt","prompt":"x","max_tokens":1000,"stream":true}`))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	go func() {
		req, _ := http.NewRequestWithContext(ctx, http.MethodPost, url+"/v1/completions",
			strings.NewReader(`{"model":"prompt","prompt":"y","max_tokens":10,"stream":true}`))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	}()
	deadline := time.Now().Add(5 * time.Second)
	for (s.Stats().Running != 1 || s.Stats().Waiting != 1) && time.Now().Before(deadline) {
		time.Sleep(time.Millisecond)
	}
	resp, err := http.Get(url + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	cancel()
	<-done
	m := string(b)
	for _, want := range []string{
		`vllm:num_requests_running{model_name="` + DefaultModel + `"} 1`,
		`vllm:num_requests_waiting{model_name="` + DefaultModel + `"} 1`,
		"vllm:kv_cache_usage_perc{", "# TYPE vllm:time_to_first_token_seconds histogram",
		"vllm:inter_token_latency_seconds_bucket{le=", `vllm:request_success_total{finished_reason="length"`,
		"vllm:prompt_tokens_total{", "vllm:generation_tokens_total{",
	} {
		if !strings.Contains(m, want) {
			t.Errorf("metrics lack %q", want)
		}
	}
	if err := s.WaitAborted(context.Background(), 2); err != nil {
		t.Fatal(err)
	}
	if st := s.Stats(); st.Running != 0 || st.Waiting != 0 || st.Aborted != 2 {
		t.Errorf("stats %+v", st)
	}
}

func TestTokens(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"def f(x):\n    return x", []string{"def", " f", "(", "x", ")", ":", "\n", "    return", " x"}},
		{"", nil},
		{"a  \n", []string{"a", "  ", "\n"}},
		{"héllo wörld", []string{"héllo", " wörld"}},
	}
	for _, tt := range tests {
		got := appendPieces(nil, tt.in)
		if strings.Join(got, "|") != strings.Join(tt.want, "|") || countTokens(tt.in) != len(tt.want) {
			t.Errorf("%q: %q", tt.in, got)
		}
	}
}

func TestListenAndServe(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	errc := make(chan error, 1)
	go func() { errc <- ListenAndServe(ctx, "127.0.0.1:0", Config{}) }()
	cancel()
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if err := ListenAndServe(context.Background(), "256.0.0.1:1", Config{}); err == nil {
		t.Fatal("bad address accepted")
	}
}
