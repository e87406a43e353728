package vllm

import (
	"fmt"
	"time"
)

// AdminState is what an operator asked of a replica (the admin console's upstreams
// page): active takes requests; draining takes no new ones while those in flight
// finish (before maintenance); disabled takes none and is not probed. Neither a
// draining nor a disabled replica is chosen by panic routing: the operator's word wins
// over availability. Health and circuit are tracked apart from it.
type AdminState string

// Admin states.
const (
	AdminActive   AdminState = "active"
	AdminDraining AdminState = "draining"
	AdminDisabled AdminState = "disabled"
)

// ParseAdminState reads an admin state; ok is false for anything else.
func ParseAdminState(s string) (AdminState, bool) {
	switch st := AdminState(s); st {
	case AdminActive, AdminDraining, AdminDisabled:
		return st, true
	}
	return "", false
}

// SetAdminState sets the admin state of the replica with base URL url (as Replicas
// reports it). It fails for an unknown URL or state.
func (p *Pool) SetAdminState(url string, s AdminState) error {
	if _, ok := ParseAdminState(string(s)); !ok {
		return fmt.Errorf("vllm: unknown admin state %q", s)
	}
	for _, r := range p.replicas {
		if r.url == url {
			r.mu.Lock()
			r.admin = s
			r.mu.Unlock()
			return nil
		}
	}
	return fmt.Errorf("vllm: no replica %s in the pool", url)
}

// observe reports a finished request's timing to PoolConfig.OnDone: the time to its
// first token (0 without one) and to its end, from the start of the request.
func (p *Pool) observe(r *replica, s *Stream, err error, gotToken bool) {
	if p.cfg.OnDone == nil {
		return
	}
	var ttft time.Duration
	if !s.firstToken.IsZero() {
		ttft = s.firstToken.Sub(s.started)
	}
	p.cfg.OnDone(r.url, ttft, time.Since(s.started), classify(err, gotToken))
}
