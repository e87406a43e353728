package vllm_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/hapa-project/hapa/vllm"
	"github.com/hapa-project/hapa/vllm/sim"
)

// TestAdminStates: a draining replica takes no new request but finishes the one in
// flight; a disabled one is not probed; neither is used by panic routing; active
// again, a replica takes requests.
func TestAdminStates(t *testing.T) {
	reps := startSims(t, 2, func(int) sim.Config { return sim.Config{ITL: 5 * time.Millisecond} })
	var mu sync.Mutex
	var done []string
	var ttfts []time.Duration
	p := newPool(t, vllm.PoolConfig{URLs: reps.urls, OnDone: func(replica string, ttft, total time.Duration, outcome string) {
		mu.Lock()
		defer mu.Unlock()
		done, ttfts = append(done, replica+" "+outcome), append(ttfts, ttft)
		if total < ttft {
			t.Errorf("total %v before the first token %v", total, ttft)
		}
	}})
	a, b := reps.urls[0], reps.urls[1]

	held := hold(t, p, "k") // in flight on one replica
	busy := held.Replica()
	other := a
	if busy == a {
		other = b
	}
	if err := p.SetAdminState(busy, vllm.AdminDraining); err != nil {
		t.Fatal(err)
	}
	for i := range 10 {
		got, err := run(t, p, req(string(rune('a'+i))))
		if err != nil || got != other {
			t.Fatalf("request %d went to %s (%v) while %s drains", i, got, err, busy)
		}
	}
	if _, _, _, err := collect(held); err != nil { // the stream in flight finishes
		t.Fatalf("the draining replica's stream: %v", err)
	}
	held.Close()
	for _, r := range p.Replicas() {
		if r.URL == busy && (r.Admin != vllm.AdminDraining || r.InFlight != 0) {
			t.Fatalf("draining replica %+v", r)
		}
	}
	mu.Lock()
	if len(done) != 11 || ttfts[0] <= 0 {
		t.Fatalf("OnDone %v %v", done, ttfts)
	}
	mu.Unlock()

	// Nothing active: no panic routing to a drained or disabled replica.
	if err := p.SetAdminState(other, vllm.AdminDisabled); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Stream(context.Background(), req("x")); !errors.Is(err, vllm.ErrUnavailable) {
		t.Fatalf("every replica out: %v", err)
	}
	if p.Healthy() {
		t.Fatal("a pool with no active replica reports healthy")
	}
	reps.sims[reps.index(other)].SetFaults(sim.Faults{HealthDown: true})
	p.Probe(context.Background()) // a disabled replica is not probed: still healthy in the record
	for _, r := range p.Replicas() {
		if r.URL == other && !r.Healthy {
			t.Fatal("a disabled replica was probed")
		}
	}
	if err := p.SetAdminState(busy, vllm.AdminActive); err != nil {
		t.Fatal(err)
	}
	if got, err := run(t, p, req("y")); err != nil || got != busy {
		t.Fatalf("after enable: %s %v", got, err)
	}
	if err := p.SetAdminState("http://nowhere:1", vllm.AdminActive); err == nil {
		t.Fatal("an unknown replica was accepted")
	}
	if err := p.SetAdminState(busy, "paused"); err == nil {
		t.Fatal("an unknown state was accepted")
	}
}
