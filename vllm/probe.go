package vllm

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"
)

// Run probes every replica at once and then every ProbeInterval until ctx is done.
func (p *Pool) Run(ctx context.Context) {
	t := time.NewTicker(p.cfg.ProbeInterval)
	defer t.Stop()
	for {
		p.Probe(ctx)
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Probe checks every replica concurrently: GET /health decides Healthy, and GET
// /v1/models refreshes the adapters it serves. A successful probe of a half-open (or
// expired open) circuit closes it. Run calls Probe; tests call it directly.
func (p *Pool) Probe(ctx context.Context) {
	var wg sync.WaitGroup
	for _, r := range p.replicas {
		wg.Go(func() { p.probe(ctx, r) })
	}
	wg.Wait()
}

func (p *Pool) probe(ctx context.Context, r *replica) {
	r.mu.Lock()
	disabled := r.admin == AdminDisabled
	r.mu.Unlock()
	if disabled { // an operator took it out: its health is not news
		return
	}
	err := r.client.Health(ctx)
	var models []Model
	if err == nil {
		models, err = r.client.Models(ctx)
	}
	if ctx.Err() != nil {
		return // shutting down: not the replica's fault
	}
	r.mu.Lock()
	was := r.healthy
	r.healthy = err == nil
	if err != nil {
		r.lastErr, r.lastErrAt = err.Error(), p.now()
	} else {
		r.models, r.adapters = r.models[:0], r.adapters[:0]
		for _, m := range models {
			r.models = append(r.models, m.ID)
			if m.Parent != "" {
				r.adapters = append(r.adapters, m.ID)
			} else if m.MaxModelLen > 0 {
				r.maxLen.Store(int64(m.MaxModelLen)) // vLLM reports it on the base model's card
			}
		}
		if r.circuit == CircuitHalfOpen ||
			(r.circuit == CircuitOpen && p.now().Sub(r.openedAt) >= p.cfg.OpenDuration) {
			r.consecutive = 0
			p.setCircuitLocked(r, CircuitClosed)
		}
	}
	r.mu.Unlock()
	if was != (err == nil) && p.cfg.OnHealth != nil {
		p.cfg.OnHealth(r.url, err == nil)
	}
}

// Models returns the union of /v1/models over the healthy replicas, first occurrence
// of each id winning. It fails only when every replica failed.
func (p *Pool) Models(ctx context.Context) ([]Model, error) {
	lists := make([][]Model, len(p.replicas))
	errs := make([]error, len(p.replicas))
	var wg sync.WaitGroup
	for i, r := range p.replicas {
		wg.Go(func() { lists[i], errs[i] = r.client.Models(ctx) })
	}
	wg.Wait()
	var out []Model
	seen := map[string]bool{}
	ok := false
	for i, l := range lists {
		if errs[i] != nil {
			continue
		}
		ok = true
		for _, m := range l {
			if !seen[m.ID] {
				seen[m.ID] = true
				out = append(out, m)
			}
		}
	}
	if !ok {
		return nil, fmt.Errorf("vllm: pool models: %w", errors.Join(errs...))
	}
	return out, nil
}

// MaxModelLen is the context length (prompt plus max_tokens, in tokens) every replica
// can take: the smallest max_model_len the replicas' last /v1/models probes reported,
// so a request that fits goes to any of them. 0 until a probe has reported one. It is
// one atomic load per replica: the engine asks on every request it adds context to.
func (p *Pool) MaxModelLen() int {
	least := int64(0)
	for _, r := range p.replicas {
		n := r.maxLen.Load()
		if n > 0 && (least == 0 || n < least) {
			least = n
		}
	}
	return int(least)
}
