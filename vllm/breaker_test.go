package vllm_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hapa-project/hapa/vllm"
	"github.com/hapa-project/hapa/vllm/sim"
)

func TestPoolBreaker(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	r := startSims(t, 3, func(int) sim.Config { return sim.Config{Faults: sim.Faults{ErrorRate: 1}} })
	var mu sync.Mutex
	var transitions []string
	p := newPool(t, vllm.PoolConfig{URLs: r.urls, FailureThreshold: 2, OpenDuration: time.Minute, Now: clock.Now, NoPanic: true,
		OnCircuit: func(u string, s vllm.CircuitState) {
			mu.Lock()
			transitions = append(transitions, fmt.Sprintf("%d %s", r.index(u), s))
			mu.Unlock()
		}})
	for range 2 { // each request tries all three replicas once
		if _, err := run(t, p, req("k")); err == nil {
			t.Fatal("want an error")
		}
	}
	for _, st := range p.Replicas() {
		if st.Circuit != vllm.CircuitOpen || st.ConsecutiveFailures != 2 || st.Failures != 2 {
			t.Fatalf("state %+v", st)
		}
	}
	if p.Healthy() {
		t.Error("Healthy with every circuit open")
	}
	_, err := run(t, p, req("k"))
	if !errors.Is(err, vllm.ErrUnavailable) || !errors.Is(err, vllm.ErrOverloaded) {
		t.Fatalf("err = %v, want ErrUnavailable (and ErrOverloaded)", err)
	}
	for i, sm := range r.sims {
		if n := sm.Stats().Requests; n != 2 {
			t.Errorf("sim %d got %d requests with its circuit open", i, n)
		}
	}

	// Replica 0 recovers; 1 and 2 are dead. After the open period a probe closes 0.
	r.sims[0].SetFaults(sim.Faults{})
	r.sims[1].SetFaults(sim.Faults{ErrorRate: 1, HealthDown: true})
	r.sims[2].SetFaults(sim.Faults{ErrorRate: 1, HealthDown: true})
	clock.Advance(time.Minute)
	p.Probe(context.Background())
	st := p.Replicas()
	if st[0].Circuit != vllm.CircuitClosed || st[1].Healthy || st[2].Healthy {
		t.Fatalf("after probe %+v", st)
	}
	if got, err := run(t, p, req("k")); err != nil || r.index(got) != 0 {
		t.Fatalf("served by %d: %v", r.index(got), err)
	}

	// A failed half-open trial reopens at once.
	r.sims[0].SetFaults(sim.Faults{ErrorRate: 1})
	for range 2 {
		_, _ = run(t, p, req("k"))
	}
	clock.Advance(time.Minute)
	if _, err := run(t, p, req("k")); err == nil {
		t.Fatal("trial should fail")
	}
	if st := p.Replicas()[0]; st.Circuit != vllm.CircuitOpen {
		t.Fatalf("after failed trial %+v", st)
	}
	mu.Lock()
	defer mu.Unlock()
	// The three opens come in pick order; the probe closes an expired open circuit
	// directly; real traffic moves it through half-open.
	want := []string{"0 closed", "0 open", "0 half-open", "0 open"}
	if len(transitions) != 7 || !slices.Equal(transitions[3:], want) {
		t.Errorf("transitions %v, want 3 opens then %v", transitions, want)
	}
}

func TestPoolModelsAndRun(t *testing.T) {
	r := startSims(t, 3, func(i int) sim.Config {
		return sim.Config{Adapters: []string{"prompt", fmt.Sprintf("extra%d", i)}}
	})
	p := newPool(t, vllm.PoolConfig{URLs: r.urls, ProbeInterval: 10 * time.Millisecond})
	models, err := p.Models(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, m := range models {
		ids = append(ids, m.ID)
	}
	want := []string{sim.DefaultModel, "prompt", "extra0", "extra1", "extra2"}
	if !slices.Equal(ids, want) {
		t.Fatalf("models %v, want %v", ids, want)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	r.sims[1].SetFaults(sim.Faults{HealthDown: true})
	deadline := time.Now().Add(5 * time.Second)
	for p.Replicas()[1].Healthy && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	<-done
	if p.Replicas()[1].Healthy || !p.Healthy() {
		t.Fatalf("states %+v", p.Replicas())
	}
}

func TestNewPoolErrors(t *testing.T) {
	for _, urls := range [][]string{nil, {"ftp://x"}, {"http://a", "http://a/"}} {
		if _, err := vllm.NewPool(vllm.PoolConfig{URLs: urls}); err == nil {
			t.Errorf("NewPool(%q) succeeded", urls)
		}
	}
}

func TestPoolPrefersReplicasServingTheAdapter(t *testing.T) {
	r := startSims(t, 3, func(i int) sim.Config {
		if i == 1 {
			return sim.Config{Adapters: []string{"autocomplete", "special"}}
		}
		return sim.Config{}
	})
	p := newPool(t, vllm.PoolConfig{URLs: r.urls})
	p.Probe(context.Background())
	for k := range 20 {
		got, err := run(t, p, vllm.Request{Model: "special", Prompt: "x", MaxTokens: 2, AffinityKey: fmt.Sprint(k)})
		if err != nil || r.index(got) != 1 {
			t.Fatalf("key %d served by %d: %v", k, r.index(got), err)
		}
	}
	if !slices.Equal(p.Replicas()[1].Adapters, []string{"autocomplete", "special"}) {
		t.Errorf("adapters %v", p.Replicas()[1].Adapters)
	}
}

func TestPoolPanicRoutingWhenEveryReplicaIsEjected(t *testing.T) {
	clock := &fakeClock{t: time.Unix(1_700_000_000, 0)}
	r := startSims(t, 1, func(int) sim.Config { return sim.Config{Faults: sim.Faults{ErrorRate: 1}} })
	var panics atomic.Int64
	p := newPool(t, vllm.PoolConfig{URLs: r.urls, FailureThreshold: 2, OpenDuration: time.Minute, Now: clock.Now,
		OnPanic: func(string) { panics.Add(1) }})
	for range 2 {
		if _, err := run(t, p, req("k")); err == nil {
			t.Fatal("want an error from the failing replica")
		}
	}
	if st := p.Replicas()[0]; st.Circuit != vllm.CircuitOpen {
		t.Fatalf("circuit %s after 2 failures, want open", st.Circuit)
	}
	// The only replica is ejected but its health probe passes: requests still go there
	// (and fail while it fails) instead of being refused for the open period.
	if _, err := run(t, p, req("k")); err == nil || errors.Is(err, vllm.ErrUnavailable) {
		t.Fatalf("err = %v, want the replica's own error (panic routing), not ErrUnavailable", err)
	}
	if n := r.sims[0].Stats().Requests; n != 3 || panics.Load() != 1 {
		t.Fatalf("replica got %d requests, %d panic-routed; want 3 and 1", n, panics.Load())
	}
	// It recovers: the next request succeeds at once and closes the circuit.
	r.sims[0].SetFaults(sim.Faults{})
	if _, err := run(t, p, req("k")); err != nil {
		t.Fatalf("after recovery: %v", err)
	}
	if st := p.Replicas()[0]; st.Circuit != vllm.CircuitClosed {
		t.Fatalf("circuit %s after a panic-routed success, want closed", st.Circuit)
	}
	// A replica that fails its probe is not a panic target: then the pool refuses.
	r.sims[0].SetFaults(sim.Faults{ErrorRate: 1, HealthDown: true})
	for range 2 {
		_, _ = run(t, p, req("k"))
	}
	p.Probe(context.Background())
	if _, err := run(t, p, req("k")); !errors.Is(err, vllm.ErrUnavailable) {
		t.Fatalf("err = %v, want ErrUnavailable with no healthy replica", err)
	}
}
