package vllm_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/vllm"
	"github.com/hapa-project/hapa/vllm/sim"
)

// startSim serves a simulator over loopback and returns it with its URL.
func startSim(t *testing.T, cfg sim.Config) (*sim.Server, string) {
	t.Helper()
	s := sim.New(cfg)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

func newClient(t *testing.T, cfg vllm.ClientConfig) *vllm.Client {
	t.Helper()
	c, err := vllm.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestClientAgainstSim(t *testing.T) {
	srv, url := startSim(t, sim.Config{Seed: 7, APIKey: "k"})
	c := newClient(t, vllm.ClientConfig{BaseURL: url + "/v1/", APIKey: "k"})
	tests := []struct {
		name string
		req  vllm.Request
		want string // finish reason
	}{
		{"completion", vllm.Request{Model: "autocomplete", Prompt: "def mean_of(values):\n", MaxTokens: 200}, "stop"},
		{"chat", vllm.Request{Model: "prompt", MaxTokens: 400,
			Messages: []vllm.Message{{Role: "user", Content: "Write a fibonacci function"}}}, "stop"},
		{"length", vllm.Request{Model: "prompt", Prompt: "fibonacci", MaxTokens: 5}, "length"},
		{"stop string", vllm.Request{Model: "prompt", Prompt: "fibonacci", MaxTokens: 400, Stop: []string{"```\n"}}, "stop"},
		{"base model", vllm.Request{Model: sim.DefaultModel, Prompt: "sort records", MaxTokens: 400}, "stop"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, err := c.Stream(context.Background(), tt.req)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			var pieces int
			var b strings.Builder
			var finish string
			var usage *vllm.Usage
			for s.Next() {
				d := s.Delta()
				if d.Text != "" {
					pieces++
				}
				b.WriteString(d.Text)
				if d.FinishReason != "" {
					finish = d.FinishReason
				}
				if d.Usage != nil {
					usage = d.Usage
				}
			}
			if err := s.Err(); err != nil {
				t.Fatal(err)
			}
			if finish != tt.want {
				t.Errorf("finish %q, want %q", finish, tt.want)
			}
			if usage == nil || usage.CompletionTokens != pieces || usage.PromptTokens == 0 ||
				usage.TotalTokens != usage.PromptTokens+usage.CompletionTokens {
				t.Errorf("usage %+v for %d pieces", usage, pieces)
			}
			if tt.want == "length" && pieces != tt.req.MaxTokens {
				t.Errorf("%d pieces, want max_tokens %d", pieces, tt.req.MaxTokens)
			}
			if len(tt.req.Stop) > 0 && strings.Contains(b.String(), tt.req.Stop[0]) {
				t.Errorf("output contains the stop string: %q", b.String())
			}
			if s.Replica() != url || s.FirstToken().IsZero() || s.FirstByte().Before(s.Started()) {
				t.Errorf("replica %q first token %v", s.Replica(), s.FirstToken())
			}
		})
	}
	if st := srv.Stats(); st.Completed != int64(len(tests)) || st.Running != 0 {
		t.Errorf("sim stats %+v", st)
	}
}

func TestClientErrors(t *testing.T) {
	_, url := startSim(t, sim.Config{MaxModelLen: 64, APIKey: "k"})
	long := strings.Repeat("word ", 100)
	tests := []struct {
		name   string
		key    string
		req    vllm.Request
		want   error
		status int
	}{
		{"unknown model", "k", vllm.Request{Model: "nope", Prompt: "x"}, vllm.ErrModelNotFound, 404},
		{"context length", "k", vllm.Request{Model: "prompt", Prompt: long, MaxTokens: 10}, vllm.ErrContextLength, 400},
		{"max_tokens over context", "k", vllm.Request{Model: "prompt", Prompt: "x", MaxTokens: 100}, vllm.ErrContextLength, 400},
		{"wrong api key", "bad", vllm.Request{Model: "prompt", Prompt: "x"}, errAPI, 401},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newClient(t, vllm.ClientConfig{BaseURL: url, APIKey: tt.key})
			s, err := c.Stream(context.Background(), tt.req)
			if err == nil {
				s.Close()
			}
			checkErr(t, err, tt.want, tt.status)
		})
	}
}

func TestClientTimeouts(t *testing.T) {
	tests := []struct {
		name   string
		faults sim.Faults
		cfg    vllm.ClientConfig
		phase  string
	}{
		{"hang before first token", sim.Faults{HangBeforeFirstToken: true},
			vllm.ClientConfig{FirstTokenTimeout: 50 * time.Millisecond}, "first token"},
		{"idle gap", sim.Faults{SlowAfterTokens: 3, SlowTokenDelay: 5 * time.Second},
			vllm.ClientConfig{IdleTimeout: 50 * time.Millisecond}, "idle"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv, url := startSim(t, sim.Config{Faults: tt.faults})
			tt.cfg.BaseURL = url
			c := newClient(t, tt.cfg)
			s, err := c.Stream(context.Background(), vllm.Request{Model: "prompt", Prompt: "x", MaxTokens: 50})
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			_, _, _, err = collect(s)
			if !errors.Is(err, vllm.ErrTimeout) || !strings.Contains(err.Error(), tt.phase) {
				t.Fatalf("err = %v, want %s ErrTimeout", err, tt.phase)
			}
			// The timeout closed the connection: the simulator saw the abort.
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			if err := srv.WaitAborted(ctx, 1); err != nil {
				t.Fatalf("simulator saw no abort: %v (%+v)", err, srv.Stats())
			}
		})
	}
}

func TestClientConnectTimeout(t *testing.T) {
	// A listener that accepts and never answers.
	hang := httptest.NewServer(hangHandler{})
	t.Cleanup(hang.Close)
	c := newClient(t, vllm.ClientConfig{BaseURL: hang.URL, ConnectTimeout: 50 * time.Millisecond})
	_, err := c.Stream(context.Background(), vllm.Request{Model: "m", Prompt: "p"})
	if !errors.Is(err, vllm.ErrTimeout) || !strings.Contains(err.Error(), "connect") {
		t.Fatalf("err = %v, want connect ErrTimeout", err)
	}
	if err := c.Health(context.Background()); !errors.Is(err, vllm.ErrTimeout) {
		t.Fatalf("health err = %v, want ErrTimeout", err)
	}
}

func TestClientHealthAndModels(t *testing.T) {
	srv, url := startSim(t, sim.Config{APIKey: "k"})
	c := newClient(t, vllm.ClientConfig{BaseURL: url, APIKey: "k"})
	if err := c.Health(context.Background()); err != nil {
		t.Fatal(err)
	}
	models, err := c.Models(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(models) != 5 || models[0].ID != sim.DefaultModel || models[0].Parent != "" ||
		models[1].Parent != sim.DefaultModel || models[0].MaxModelLen != 16384 {
		t.Fatalf("models %+v", models)
	}
	srv.SetFaults(sim.Faults{HealthDown: true})
	if err := c.Health(context.Background()); !errors.Is(err, vllm.ErrOverloaded) {
		t.Fatalf("health down err = %v, want 503 (ErrOverloaded)", err)
	}
}

// BenchmarkClientSim pushes zero-latency completions (about 50 tokens each) through
// the client and the simulator over loopback: the ceiling HAPA benchmarks work under.
func BenchmarkClientSim(b *testing.B) {
	s := sim.New(sim.Config{})
	ts := httptest.NewServer(s)
	defer ts.Close()
	c, err := vllm.NewClient(vllm.ClientConfig{BaseURL: ts.URL})
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			st, err := c.Stream(context.Background(), vllm.Request{Model: "autocomplete", Prompt: "def f(x):", MaxTokens: 50})
			if err != nil {
				b.Error(err)
				return
			}
			for st.Next() {
			}
			if err := st.Err(); err != nil {
				b.Error(err)
			}
			st.Close()
		}
	})
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "req/s")
}
