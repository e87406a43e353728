package ws

import (
	"context"
	"errors"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"github.com/hapa-project/hapa/realtime"
)

// Hub owns every editor socket of this process: it accepts them (ServeHTTP), counts
// them per key, closes a key's sockets on revocation, and shuts them down in order
// (http.Server.Shutdown ignores hijacked connections).
type Hub struct {
	cfg   Config
	deps  Deps
	log   *slog.Logger
	obs   Observer
	start func(ctx context.Context, req realtime.Request) (eventSource, error)

	mu       sync.Mutex
	sessions map[*session]struct{}
	perKey   map[string]int
	closing  bool
	wg       sync.WaitGroup // one per registered session

	nStreams atomic.Int64
	readers  atomic.Int64 // session readers running (not parked); tests read it
}

// Stats is a snapshot of the hub's counts.
type Stats struct {
	Sessions int `json:"sessions"`
	Streams  int `json:"streams"`
}

// NewHub builds a hub. deps.Engine and deps.Auth are required.
func NewHub(cfg Config, deps Deps) (*Hub, error) {
	if deps.Engine == nil || deps.Auth == nil {
		return nil, errors.New("realtime: NewHub needs Engine and Auth")
	}
	h := &Hub{cfg: cfg.withDefaults(), deps: deps, log: deps.Logger, obs: deps.Observer,
		sessions: make(map[*session]struct{}), perKey: make(map[string]int)}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.obs == nil {
		h.obs = nopObserver{}
	}
	h.start = func(ctx context.Context, req realtime.Request) (eventSource, error) {
		st, err := deps.Engine.Start(ctx, req)
		if err != nil {
			return nil, err
		}
		return st, nil
	}
	return h, nil
}

// Stats returns the current number of sessions and in-flight streams.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	n := len(h.sessions)
	h.mu.Unlock()
	return Stats{Sessions: n, Streams: int(h.nStreams.Load())}
}

// connKey groups sockets for MaxConnsPerKey: the API key, else the JWT user.
func connKey(c realtime.Caller) string {
	if c.KeyID != 0 {
		return "k" + strconv.FormatInt(c.KeyID, 10)
	}
	return "u" + strconv.FormatInt(c.UserID, 10)
}

// register adds s unless the hub is closing (1012) or the key has too many sockets
// (4029): MaxConnsPerKey on all replicas together when Leases answers, on this one
// otherwise.
func (h *Hub) register(ctx context.Context, s *session) (websocket.StatusCode, string) {
	tooMany := string(realtime.CodeTooManyConns) + ": too many connections for this key"
	k, max := connKey(s.caller), h.cfg.MaxConnsPerKey
	h.mu.Lock()
	if h.closing {
		h.mu.Unlock()
		return websocket.StatusServiceRestart, "server restart"
	}
	if max > 0 && h.perKey[k] >= max {
		h.mu.Unlock()
		return CloseTooManyConns, tooMany
	}
	h.perKey[k]++ // this replica's slot, held while the cluster is asked
	h.mu.Unlock()
	if max > 0 && h.deps.Leases != nil {
		ok, err := h.deps.Leases.Acquire(ctx, k, s.id, max)
		if err == nil && !ok {
			h.dropSlot(k)
			return CloseTooManyConns, tooMany
		}
		s.leased = err == nil
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.closing {
		h.perKey[k]--
		return websocket.StatusServiceRestart, "server restart"
	}
	h.sessions[s] = struct{}{}
	h.wg.Add(1)
	h.obs.SessionOpened()
	return 0, ""
}

func (h *Hub) dropSlot(k string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.perKey[k]--; h.perKey[k] <= 0 {
		delete(h.perKey, k)
	}
}

func (h *Hub) unregister(s *session) {
	if s.leased {
		h.deps.Leases.Release(connKey(s.caller), s.id)
	}
	h.mu.Lock()
	delete(h.sessions, s)
	h.mu.Unlock()
	h.dropSlot(connKey(s.caller))
	h.wg.Done()
}

// Keys returns the API keys that have open sockets on this replica.
func (h *Hub) Keys() []int64 {
	h.mu.Lock()
	defer h.mu.Unlock()
	seen := map[int64]bool{}
	out := []int64{}
	for s := range h.sessions {
		if id := s.caller.KeyID; id != 0 && !seen[id] {
			seen[id] = true
			out = append(out, id)
		}
	}
	return out
}

func (h *Hub) streamOpened(k realtime.Kind) {
	h.nStreams.Add(1)
	h.obs.StreamOpened(k)
}

func (h *Hub) streamClosed(k realtime.Kind, outcome string) {
	h.nStreams.Add(-1)
	h.obs.StreamClosed(k, outcome)
}

func (h *Hub) snapshot() []*session {
	h.mu.Lock()
	defer h.mu.Unlock()
	out := make([]*session, 0, len(h.sessions))
	for s := range h.sessions {
		out = append(out, s)
	}
	return out
}

// CloseKey closes every socket of the API key with 4001; code (E4007 revoked, E4006
// expired) and reason go into the close reason, and each stream still open gets a
// stream.error with code first. It returns how many sockets it closed. The revoke
// path and the Redis pub/sub subscriber call it.
func (h *Hub) CloseKey(keyID int64, code realtime.Code, reason string) int {
	if reason == "" {
		reason = realtime.Lookup(code).Message
	}
	n := 0
	for _, s := range h.snapshot() {
		if s.caller.KeyID == keyID {
			s.closeWithError(CloseAuthRevoked, string(code)+": "+reason, realtime.NewError(code, reason))
			n++
		}
	}
	return n
}

// Shutdown stops accepting sockets (new upgrades get 503), sends session.closing with
// reconnect_after_ms to every session, lets running streams finish until ctx ends,
// then closes every socket with 1012. It returns when all sessions have ended, or
// ctx.Err() if they had not ended by the deadline plus a 2 s grace for close
// handshakes.
func (h *Hub) Shutdown(ctx context.Context) error {
	h.mu.Lock()
	h.closing = true
	h.mu.Unlock()
	all := h.snapshot()
	for _, s := range all {
		s.drain("server restart")
	}
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for h.nStreams.Load() > 0 && ctx.Err() == nil {
		select {
		case <-ctx.Done():
		case <-tick.C:
		}
	}
	cut := realtime.NewError(realtime.CodeModelUnavailable, "The server restarted before the stream finished; retry")
	cut.RetryAfter = h.cfg.ReconnectAfter
	for _, s := range all {
		s.closeWithError(websocket.StatusServiceRestart, "server restart", cut)
	}
	done := make(chan struct{})
	go func() { h.wg.Wait(); close(done) }()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
	}
	grace := time.NewTimer(2 * time.Second) // let close handshakes finish
	defer grace.Stop()
	select {
	case <-done:
		return nil
	case <-grace.C:
		for _, s := range h.snapshot() {
			s.cancel()
		}
		return ctx.Err()
	}
}
