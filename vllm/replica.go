package vllm

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"
)

// CircuitState is a replica's circuit breaker state.
type CircuitState string

// Breaker states: closed passes traffic; open ejects the replica for OpenDuration;
// half-open lets one trial request (or a successful health probe) decide.
const (
	CircuitClosed   CircuitState = "closed"
	CircuitOpen     CircuitState = "open"
	CircuitHalfOpen CircuitState = "half-open"
)

// Request outcomes reported to PoolConfig.OnRequest.
const (
	OutcomeOK          = "ok"           // ended cleanly (or closed by the caller after tokens)
	OutcomeCancelled   = "cancelled"    // the caller cancelled or closed it early
	OutcomeClientError = "client_error" // 4xx: the request's fault, the replica is fine
	OutcomeOverloaded  = "overloaded"   // 429
	OutcomeTimeout     = "timeout"      // connect, first-token or idle limit
	OutcomeError       = "error"        // transport error, 5xx, truncated or bad stream
)

// ReplicaState is a snapshot of one replica for the admin console and metrics.
type ReplicaState struct {
	URL                 string
	Healthy             bool
	Circuit             CircuitState
	InFlight            int
	Adapters            []string // LoRA adapters the replica lists in /v1/models
	Models              []string // every served model id (base first)
	LastError           string
	LastErrorAt         time.Time
	ConsecutiveFailures int
	Requests            int64
	Failures            int64
	Admin               AdminState // what an operator asked (admin.go)
}

// replica is one vLLM server and its breaker.
type replica struct {
	idx      int
	url      string
	seed     uint64 // rendezvous hash seed
	client   *Client
	inFlight atomic.Int64
	maxLen   atomic.Int64 // the base model's max_model_len at the last probe; 0 unknown

	mu          sync.Mutex
	healthy     bool
	circuit     CircuitState
	openedAt    time.Time
	trial       bool // a half-open trial request is in flight
	consecutive int
	requests    int64
	failures    int64
	lastErr     string
	lastErrAt   time.Time
	models      []string
	adapters    []string
	admin       AdminState // "" is active
}

// available reports whether r may take a request now; it moves open → half-open once
// the open period has passed. Call with r.mu held.
func (r *replica) availableLocked(p *Pool, now time.Time) bool {
	if !r.healthy || !r.activeLocked() {
		return false
	}
	if r.circuit == CircuitOpen && now.Sub(r.openedAt) >= p.cfg.OpenDuration {
		p.setCircuitLocked(r, CircuitHalfOpen)
	}
	switch r.circuit {
	case CircuitClosed:
		return true
	case CircuitHalfOpen:
		return !r.trial
	}
	return false
}

// acquire claims r for one request; false when it became unavailable meanwhile.
func (r *replica) acquire(p *Pool) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if !r.availableLocked(p, p.now()) {
		return false
	}
	if r.circuit == CircuitHalfOpen {
		r.trial = true
	}
	r.requests++
	r.inFlight.Add(1)
	return true
}

// finish records the outcome of a request acquired on r.
func (r *replica) finish(p *Pool, err error, gotToken bool) {
	outcome := classify(err, gotToken)
	r.inFlight.Add(-1)
	r.mu.Lock()
	r.trial = false
	switch outcome {
	case OutcomeTimeout, OutcomeError:
		r.failures++
		r.consecutive++
		r.lastErr, r.lastErrAt = err.Error(), p.now()
		if r.circuit == CircuitHalfOpen ||
			(r.circuit == CircuitClosed && r.consecutive >= p.cfg.FailureThreshold) {
			r.openedAt = p.now()
			p.setCircuitLocked(r, CircuitOpen)
		}
	case OutcomeOK, OutcomeClientError:
		r.consecutive = 0
		if r.circuit != CircuitClosed { // a half-open trial, or a panic-routed request, succeeded
			p.setCircuitLocked(r, CircuitClosed)
		}
	}
	r.mu.Unlock()
	if p.cfg.OnRequest != nil {
		p.cfg.OnRequest(r.url, outcome)
	}
}

// classify maps a stream's end to an outcome.
func classify(err error, gotToken bool) string {
	var api *APIError
	switch {
	case err == nil:
		return OutcomeOK
	case errors.Is(err, errClosed):
		if gotToken {
			return OutcomeOK
		}
		return OutcomeCancelled
	case errors.Is(err, context.Canceled), errors.Is(err, context.DeadlineExceeded):
		return OutcomeCancelled
	case errors.Is(err, ErrTimeout):
		return OutcomeTimeout
	case errors.As(err, &api):
		switch {
		case api.Status == 429:
			return OutcomeOverloaded
		case api.Status >= 400 && api.Status < 500:
			return OutcomeClientError
		}
	}
	return OutcomeError
}

// retryable reports whether another replica should get the request: the replica
// failed or refused for load before any token was produced.
func retryable(err error) bool {
	switch classify(err, false) {
	case OutcomeTimeout, OutcomeError, OutcomeOverloaded:
		return true
	}
	return false
}

// activeLocked reports whether an operator lets r take requests. Call with r.mu held.
func (r *replica) activeLocked() bool { return r.admin == "" || r.admin == AdminActive }

func (r *replica) state() ReplicaState {
	r.mu.Lock()
	defer r.mu.Unlock()
	admin := r.admin
	if admin == "" {
		admin = AdminActive
	}
	return ReplicaState{Admin: admin,
		URL: r.url, Healthy: r.healthy, Circuit: r.circuit, InFlight: int(r.inFlight.Load()),
		Adapters: append([]string(nil), r.adapters...), Models: append([]string(nil), r.models...),
		LastError: r.lastErr, LastErrorAt: r.lastErrAt, ConsecutiveFailures: r.consecutive,
		Requests: r.requests, Failures: r.failures,
	}
}
