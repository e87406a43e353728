package vllm_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/hapa-project/hapa/vllm"
	"github.com/hapa-project/hapa/vllm/sim"
)

// fakeClock drives the breaker's open period without sleeping.
type fakeClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *fakeClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

type replicas struct {
	sims []*sim.Server
	urls []string
}

// startSims starts n simulators, each configured by cfg(i).
func startSims(t *testing.T, n int, cfg func(i int) sim.Config) replicas {
	t.Helper()
	var r replicas
	for i := range n {
		s, u := startSim(t, cfg(i))
		r.sims = append(r.sims, s)
		r.urls = append(r.urls, u)
	}
	return r
}

func (r replicas) index(url string) int { return slices.Index(r.urls, url) }

func newPool(t *testing.T, cfg vllm.PoolConfig) *vllm.Pool {
	t.Helper()
	p, err := vllm.NewPool(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func plain(int) sim.Config { return sim.Config{} }

// run streams req through p to the end and returns the serving replica.
func run(t *testing.T, p *vllm.Pool, req vllm.Request) (string, error) {
	t.Helper()
	s, err := p.Stream(context.Background(), req)
	if err != nil {
		return "", err
	}
	defer s.Close()
	_, _, _, err = collect(s)
	return s.Replica(), err
}

func req(key string) vllm.Request {
	return vllm.Request{Model: "autocomplete", Prompt: "def f():", MaxTokens: 8, AffinityKey: key}
}

func TestPoolAffinity(t *testing.T) {
	r := startSims(t, 3, plain)
	p := newPool(t, vllm.PoolConfig{URLs: r.urls})
	used := map[string]int{}
	for k := range 60 {
		key := fmt.Sprintf("workspace-%d", k)
		first, err := run(t, p, req(key))
		if err != nil {
			t.Fatal(err)
		}
		for range 3 {
			again, err := run(t, p, req(key))
			if err != nil || again != first {
				t.Fatalf("key %s: %s then %s (%v)", key, first, again, err)
			}
		}
		used[first]++
	}
	if len(used) != 3 {
		t.Fatalf("60 keys used %d replicas: %v", len(used), used)
	}
	for u, n := range used {
		if n < 10 {
			t.Errorf("replica %s got only %d of 60 keys", u, n)
		}
	}
}

// hold opens a slow stream and returns it with its first delta read.
func hold(t *testing.T, p *vllm.Pool, key string) *vllm.Stream {
	t.Helper()
	s, err := p.Stream(context.Background(), vllm.Request{Model: "prompt", Prompt: "x", MaxTokens: 1000, AffinityKey: key})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func TestPoolLeastInFlight(t *testing.T) {
	slow := func(int) sim.Config { return sim.Config{ITL: time.Second} }
	t.Run("no key spreads by load", func(t *testing.T) {
		r := startSims(t, 3, slow)
		p := newPool(t, vllm.PoolConfig{URLs: r.urls})
		seen := map[string]bool{}
		for range 3 {
			seen[hold(t, p, "").Replica()] = true
		}
		if len(seen) != 3 {
			t.Fatalf("3 concurrent streams on %d replicas", len(seen))
		}
		for _, st := range p.Replicas() {
			if st.InFlight != 1 {
				t.Errorf("%s in flight %d, want 1", st.URL, st.InFlight)
			}
		}
	})
	t.Run("affinity yields past the slack", func(t *testing.T) {
		r := startSims(t, 3, slow)
		p := newPool(t, vllm.PoolConfig{URLs: r.urls, AffinitySlack: 1})
		a := hold(t, p, "k").Replica()
		b := hold(t, p, "k").Replica() // 1 in flight on a, slack 1: still a
		c := hold(t, p, "k").Replica() // 2 > 0+1: the least loaded
		if a != b || c == a {
			t.Fatalf("replicas %s %s %s", a, b, c)
		}
	})
}

func TestPoolFailover(t *testing.T) {
	tests := []struct {
		name   string
		faults sim.Faults
	}{
		{"5xx before streaming", sim.Faults{ErrorRate: 1}},
		{"503", sim.Faults{ErrorRate: 1, ErrorStatus: 503}},
		{"200 with error body", sim.Faults{OKWithErrorRate: 1}},
		{"error event before the first token", sim.Faults{ErrorInStreamRate: 1}},
		{"hang before the first token", sim.Faults{HangBeforeFirstToken: true}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			// Replicas 0 and 1 are broken; every request must still succeed on 2.
			r := startSims(t, 3, func(i int) sim.Config {
				if i < 2 {
					return sim.Config{Faults: tt.faults}
				}
				return sim.Config{}
			})
			var mu sync.Mutex
			failovers := 0
			p := newPool(t, vllm.PoolConfig{URLs: r.urls, FirstTokenTimeout: 100 * time.Millisecond,
				FailureThreshold: 1000, OnFailover: func(string, error) { mu.Lock(); failovers++; mu.Unlock() }})
			for k := range 12 {
				got, err := run(t, p, vllm.Request{Model: "autocomplete", Prompt: "x", MaxTokens: 1, AffinityKey: fmt.Sprint(k)})
				if err != nil {
					t.Fatalf("key %d: %v", k, err)
				}
				if r.index(got) != 2 {
					t.Fatalf("served by %d", r.index(got))
				}
			}
			if r.sims[2].Stats().Completed != 12 || failovers == 0 ||
				r.sims[0].Stats().Requests+r.sims[1].Stats().Requests != int64(failovers) {
				t.Errorf("failovers %d, stats %+v %+v %+v", failovers,
					r.sims[0].Stats(), r.sims[1].Stats(), r.sims[2].Stats())
			}
		})
	}
	t.Run("health down is ejected after a probe", func(t *testing.T) {
		r := startSims(t, 3, func(i int) sim.Config { return sim.Config{Faults: sim.Faults{HealthDown: i == 0}} })
		var mu sync.Mutex
		health := map[string]bool{}
		p := newPool(t, vllm.PoolConfig{URLs: r.urls,
			OnHealth: func(u string, ok bool) { mu.Lock(); health[u] = ok; mu.Unlock() }})
		p.Probe(context.Background())
		st := p.Replicas()
		if st[0].Healthy || !st[1].Healthy || len(st[1].Adapters) != 4 || st[0].LastError == "" {
			t.Fatalf("states %+v", st)
		}
		if ok, seen := health[r.urls[0]]; ok || !seen {
			t.Errorf("OnHealth %v", health)
		}
		for k := range 20 {
			if got, err := run(t, p, req(fmt.Sprint(k))); err != nil || r.index(got) == 0 {
				t.Fatalf("served by %d: %v", r.index(got), err)
			}
		}
		if r.sims[0].Stats().Requests != 0 {
			t.Errorf("unhealthy replica got requests")
		}
	})
	t.Run("client errors do not fail over", func(t *testing.T) {
		r := startSims(t, 3, plain)
		p := newPool(t, vllm.PoolConfig{URLs: r.urls})
		_, err := p.Stream(context.Background(), vllm.Request{Model: "nope", Prompt: "x"})
		if !errors.Is(err, vllm.ErrModelNotFound) {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestPoolNoRetryAfterFirstToken(t *testing.T) {
	r := startSims(t, 3, func(int) sim.Config { return sim.Config{Faults: sim.Faults{DisconnectAfterTokens: 3}} })
	p := newPool(t, vllm.PoolConfig{URLs: r.urls})
	s, err := p.Stream(context.Background(), vllm.Request{Model: "prompt", Prompt: "x", MaxTokens: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	text, _, _, err := collect(s)
	if err == nil || text == "" {
		t.Fatalf("text %q err %v, want text then an error", text, err)
	}
	var total int64
	for _, sm := range r.sims {
		total += sm.Stats().Requests
	}
	if total != 1 {
		t.Fatalf("%d upstream requests, want exactly 1", total)
	}
	if st := p.Replicas()[r.index(s.Replica())]; st.Failures != 1 || st.InFlight != 0 {
		t.Errorf("state %+v", st)
	}
}

// TestPoolMaxModelLen: the pool learns max_model_len from the probes' /v1/models and
// reports the smallest, so a request sized for it fits on every replica.
func TestPoolMaxModelLen(t *testing.T) {
	r := startSims(t, 2, func(i int) sim.Config { return sim.Config{MaxModelLen: 4096 * (i + 1)} })
	p := newPool(t, vllm.PoolConfig{URLs: r.urls})
	if got := p.MaxModelLen(); got != 0 {
		t.Errorf("before any probe: %d, want 0 (unknown)", got)
	}
	p.Probe(context.Background())
	if got := p.MaxModelLen(); got != 4096 {
		t.Errorf("after a probe: %d, want the smaller 4096", got)
	}
}
