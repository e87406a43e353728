package vllm

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"net/http"
	"sync/atomic"
	"time"
)

// PoolConfig configures a Pool. Zero fields mean the documented defaults.
type PoolConfig struct {
	URLs       []string     // replica base URLs (VLLM_SERVER_URL, comma-separated)
	APIKey     string       // AI_MODEL_API_KEY, sent to every replica
	HTTPClient *http.Client // shared by all replicas; nil: the package's own transport

	ConnectTimeout    time.Duration // default DefaultConnectTimeout
	FirstTokenTimeout time.Duration // default DefaultFirstTokenTimeout
	IdleTimeout       time.Duration // default DefaultIdleTimeout

	ProbeInterval    time.Duration // health probing period of Run; default 5s
	FailureThreshold int           // consecutive failures that open a circuit; default 5
	OpenDuration     time.Duration // how long an open circuit ejects; default 30s
	// AffinitySlack bounds affinity: the hashed replica is skipped when it has more
	// than AffinitySlack requests in flight above the least loaded one. Default 16;
	// negative means affinity is never overridden.
	AffinitySlack int
	// NoPanic turns panic routing off. By default, when every replica is ejected
	// (circuit open or half-open with its trial in flight) but some pass their health
	// probe, a request goes to the least loaded of those instead of failing at once:
	// a burst of timeouts on the only replica (a connect storm) then slows requests
	// down instead of refusing all of them for OpenDuration.
	NoPanic bool

	// Observer hooks, called synchronously; they must be quick and must not call back
	// into the pool. Any may be nil.
	OnRequest  func(replica, outcome string)            // once per attempt (Outcome*)
	OnHealth   func(replica string, healthy bool)       // on probe transitions
	OnCircuit  func(replica string, state CircuitState) // on breaker transitions
	OnFailover func(from string, err error)             // before trying another replica
	OnPanic    func(replica string)                     // a request routed by panic routing
	// OnDone is called when a request's stream ends, with its time to first token (0
	// without one) and to its end, both from the start of the request, and its outcome.
	OnDone func(replica string, ttft, total time.Duration, outcome string)

	Now func() time.Time // clock for the breaker; nil means time.Now
}

// Pool spreads requests over vLLM replicas: rendezvous-hash affinity on
// Request.AffinityKey with least-in-flight as tie-break and overflow, health probing,
// a per-replica circuit breaker, and failover to another replica only before the
// first token. It never retries once a token reached the caller.
type Pool struct {
	cfg      PoolConfig
	replicas []*replica
	rr       atomic.Uint64 // rotates ties among equally loaded replicas
}

// maxReplicas bounds the pool so a bit set can record tried replicas.
const maxReplicas = 64

// NewPool builds a pool; replicas start healthy with closed circuits, so it works
// before the first probe (call Run to keep health current).
func NewPool(cfg PoolConfig) (*Pool, error) {
	var errs []error
	if len(cfg.URLs) == 0 {
		errs = append(errs, errors.New("vllm: pool: no replica URLs"))
	}
	if len(cfg.URLs) > maxReplicas {
		errs = append(errs, fmt.Errorf("vllm: pool: %d replicas, at most %d", len(cfg.URLs), maxReplicas))
	}
	if cfg.ProbeInterval <= 0 {
		cfg.ProbeInterval = 5 * time.Second
	}
	if cfg.FailureThreshold <= 0 {
		cfg.FailureThreshold = 5
	}
	if cfg.OpenDuration <= 0 {
		cfg.OpenDuration = 30 * time.Second
	}
	if cfg.AffinitySlack == 0 {
		cfg.AffinitySlack = 16
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.HTTPClient == nil {
		cfg.HTTPClient = &http.Client{Transport: newTransport()}
	}
	p := &Pool{cfg: cfg}
	seen := map[string]bool{}
	for i, u := range cfg.URLs {
		c, err := NewClient(ClientConfig{
			BaseURL: u, APIKey: cfg.APIKey, HTTPClient: cfg.HTTPClient,
			ConnectTimeout: cfg.ConnectTimeout, FirstTokenTimeout: cfg.FirstTokenTimeout,
			IdleTimeout: cfg.IdleTimeout,
		})
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if seen[c.BaseURL()] {
			errs = append(errs, fmt.Errorf("vllm: pool: replica %s listed twice", c.BaseURL()))
			continue
		}
		seen[c.BaseURL()] = true
		h := fnv.New64a()
		h.Write([]byte(c.BaseURL()))
		p.replicas = append(p.replicas, &replica{
			idx: i, url: c.BaseURL(), seed: h.Sum64(), client: c,
			healthy: true, circuit: CircuitClosed,
		})
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	for i, r := range p.replicas {
		r.idx = i
	}
	return p, nil
}

func (p *Pool) now() time.Time { return p.cfg.Now() }

// Stream starts req on a replica chosen by pick. When a replica fails before the first
// token (connect error, 5xx, 429, timeout, error event) the next candidate is tried,
// each replica at most once; the stream returned has already produced its first delta
// (or its end). It returns an error wrapping ErrUnavailable when no replica is
// available at all.
func (p *Pool) Stream(ctx context.Context, req Request) (*Stream, error) {
	key := uint64(0)
	if req.AffinityKey != "" {
		key = hashKey(req.AffinityKey)
	}
	var tried uint64
	var last error
	for range 2 * len(p.replicas) { // acquire may lose races; bound the loop
		r := p.pick(req.AffinityKey != "", key, tried, req.Model)
		if r == nil {
			break
		}
		tried |= 1 << r.idx
		if !r.acquire(p) {
			continue
		}
		s, err := p.try(ctx, r, req)
		if err == nil {
			return s, nil
		}
		if ctx.Err() != nil {
			return nil, err
		}
		last = err
		if !retryable(err) {
			return nil, err
		}
		if p.cfg.OnFailover != nil {
			p.cfg.OnFailover(r.url, err)
		}
	}
	if last != nil {
		return nil, last
	}
	if tried == 0 && !p.cfg.NoPanic { // nothing was available: panic routing
		if r := p.panicPick(); r != nil {
			if p.cfg.OnPanic != nil {
				p.cfg.OnPanic(r.url)
			}
			return p.try(ctx, r, req)
		}
	}
	return nil, fmt.Errorf("vllm: pool of %d: %w", len(p.replicas), ErrUnavailable)
}

// panicPick claims the least loaded replica that passes its health probe, whatever its
// circuit says; nil when no replica is healthy. A success there closes its circuit.
func (p *Pool) panicPick() *replica {
	var least *replica
	for _, r := range p.replicas {
		r.mu.Lock()
		ok := r.healthy && r.activeLocked()
		r.mu.Unlock()
		if ok && (least == nil || r.inFlight.Load() < least.inFlight.Load()) {
			least = r
		}
	}
	if least != nil {
		least.mu.Lock()
		least.requests++
		least.inFlight.Add(1)
		least.mu.Unlock()
	}
	return least
}

// try runs req on the acquired replica r and reads ahead to the first delta, so a
// failure before the first token can still fail over.
func (p *Pool) try(ctx context.Context, r *replica, req Request) (*Stream, error) {
	s, err := r.client.Stream(ctx, req)
	if err != nil {
		r.finish(p, err, false)
		return nil, err
	}
	s.onEnd = func(err error, gotToken bool) { r.finish(p, err, gotToken); p.observe(r, s, err, gotToken) }
	if s.Next() {
		s.held = true
		return s, nil
	}
	if err := s.Err(); err != nil {
		return nil, err
	}
	return s, nil
}

// Healthy reports whether at least one replica can take requests now.
func (p *Pool) Healthy() bool {
	now := p.now()
	for _, r := range p.replicas {
		r.mu.Lock()
		ok := r.healthy && r.activeLocked() && (r.circuit != CircuitOpen || now.Sub(r.openedAt) >= p.cfg.OpenDuration)
		r.mu.Unlock()
		if ok {
			return true
		}
	}
	return false
}

// Replicas returns a snapshot of every replica, in configuration order.
func (p *Pool) Replicas() []ReplicaState {
	out := make([]ReplicaState, len(p.replicas))
	for i, r := range p.replicas {
		out[i] = r.state()
	}
	return out
}

func (p *Pool) setCircuitLocked(r *replica, s CircuitState) {
	if r.circuit == s {
		return
	}
	r.circuit = s
	if p.cfg.OnCircuit != nil {
		p.cfg.OnCircuit(r.url, s)
	}
}
