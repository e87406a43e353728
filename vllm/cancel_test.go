package vllm_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/vllm"
	"github.com/hapa-project/hapa/vllm/sim"
)

func TestCancellationReachesModel(t *testing.T) {
	for _, how := range []string{"cancel context", "Close"} {
		t.Run(how, func(t *testing.T) {
			srv, url := startSim(t, sim.Config{ITL: 20 * time.Millisecond})
			c := newClient(t, vllm.ClientConfig{BaseURL: url})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			s, err := c.Stream(ctx, vllm.Request{Model: "prompt", Prompt: "long answer", MaxTokens: 500})
			if err != nil {
				t.Fatal(err)
			}
			if !s.Next() {
				t.Fatalf("no first delta: %v", s.Err())
			}
			if how == "Close" {
				s.Close()
			} else {
				cancel()
			}
			for s.Next() {
			}
			if how == "Close" && s.Err() != nil {
				t.Errorf("Err after Close = %v, want nil", s.Err())
			}
			if how != "Close" && !errors.Is(s.Err(), context.Canceled) {
				t.Errorf("Err after cancel = %v, want context.Canceled", s.Err())
			}
			wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer wcancel()
			if err := srv.WaitAborted(wctx, 1); err != nil {
				t.Fatalf("no abort counted: %v", err)
			}
			if st := srv.Stats(); st.Running != 0 || st.Completed != 0 {
				t.Errorf("stats %+v", st)
			}
			body := getBody(t, url+"/metrics")
			if !strings.Contains(body, `vllm:request_success_total{finished_reason="abort",model_name="`+sim.DefaultModel+`"} 1`) {
				t.Errorf("metrics lack the abort:\n%s", body)
			}
		})
	}
}

// TestCloseFromAnotherGoroutine closes a stream while its reader is blocked in Next,
// as the engine does when the last subscriber leaves.
func TestCloseFromAnotherGoroutine(t *testing.T) {
	srv, url := startSim(t, sim.Config{ITL: 10 * time.Millisecond})
	p := newPool(t, vllm.PoolConfig{URLs: []string{url}})
	s, err := p.Stream(context.Background(), vllm.Request{Model: "prompt", Prompt: "x", MaxTokens: 1000})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error)
	go func() {
		for s.Next() {
		}
		done <- s.Err()
	}()
	time.Sleep(30 * time.Millisecond) // let the reader block mid-stream
	s.Close()
	if err := <-done; err != nil {
		t.Fatalf("Err after Close = %v, want nil", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.WaitAborted(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if st := p.Replicas()[0]; st.InFlight != 0 || st.Failures != 0 || st.Circuit != vllm.CircuitClosed {
		t.Fatalf("state %+v", st)
	}
}
