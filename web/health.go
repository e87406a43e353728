package web

import (
	"context"
	"net/http"
	"time"
)

// Dependency states reported by /health.
const (
	StateConnected   = "connected"   // database, redis
	StateDisabled    = "disabled"    // redis not configured
	StateError       = "error"       // database, redis
	StateAvailable   = "available"   // ai_model: a healthy vLLM replica
	StateSimulator   = "simulator"   // ai_model: the built-in simulator
	StateUnavailable = "unavailable" // ai_model: no healthy replica
)

// HealthReport is the state of HAPA's dependencies, as cmd/hapa sees them.
type HealthReport struct {
	Database    string    // connected | error
	Redis       string    // connected | disabled | error
	AIModel     string    // available | simulator | unavailable
	LastCleanup time.Time // last retention cleanup; zero: none yet
}

// readyTimeout bounds the database ping of /readyz.
const readyTimeout = time.Second

type healthServices struct {
	Database string `json:"database"`
	Redis    string `json:"redis"`
	AIModel  string `json:"ai_model"`
}

type healthBody struct {
	Status      string         `json:"status"`
	Version     string         `json:"version"`
	Uptime      int64          `json:"uptime"`
	Timestamp   string         `json:"timestamp"`
	Service     string         `json:"service"`
	Services    healthServices `json:"services"`
	LastCleanup *string        `json:"last_cleanup"`
}

// report gathers the dependency states: Deps.Health when set, else a database ping
// with redis "disabled" and the model "available" when an engine is wired.
func (s *Server) report(ctx context.Context) HealthReport {
	if s.deps.Health != nil {
		return s.deps.Health(ctx)
	}
	rep := HealthReport{Database: StateConnected, Redis: StateDisabled, AIModel: StateUnavailable}
	if s.pingDB(ctx) != nil {
		rep.Database = StateError
	}
	if s.deps.Engine != nil {
		rep.AIModel = StateAvailable
	}
	return rep
}

func (s *Server) pingDB(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, readyTimeout)
	defer cancel()
	return s.deps.DB.Ping(ctx)
}

// overall is healthy when everything works, unhealthy when the database is down, and
// degraded otherwise (no model replica, Redis failing: HAPA still serves what it can).
func overall(rep HealthReport) string {
	switch {
	case rep.Database != StateConnected:
		return "unhealthy"
	case rep.AIModel != StateAvailable && rep.AIModel != StateSimulator, rep.Redis == StateError:
		return "degraded"
	}
	return "healthy"
}

// handleHealth serves GET /health and GET /api/v1/health. It answers 200 even when
// degraded or unhealthy (the body says which): the landing page and the extension only
// need the answer; /readyz is the probe for load balancers.
func (s *Server) handleHealth(w http.ResponseWriter, r *http.Request) {
	rep := s.report(r.Context())
	now := s.now()
	b := healthBody{
		Status:    overall(rep),
		Version:   s.cfg.Version,
		Uptime:    int64(now.Sub(s.started) / time.Second),
		Timestamp: now.UTC().Format(time.RFC3339),
		Service:   "HAPA Backend API",
		Services:  healthServices{Database: rep.Database, Redis: rep.Redis, AIModel: rep.AIModel},
	}
	if !rep.LastCleanup.IsZero() {
		t := rep.LastCleanup.UTC().Format(time.RFC3339)
		b.LastCleanup = &t
	}
	writeJSON(w, http.StatusOK, b)
}

// handleReady serves GET /readyz: 503 while the server drains for shutdown (Drain);
// otherwise 200, "ready" when the database answers a ping within 1s and "degraded"
// when it does not.
func (s *Server) handleReady(w http.ResponseWriter, r *http.Request) {
	if s.draining.Load() {
		writeJSON(w, http.StatusServiceUnavailable, readyBody{Status: "draining"})
		return
	}
	if err := s.pingDB(r.Context()); err != nil {
		// Still ready: callers seen recently keep being served while the database is
		// away (docs/operations.md, "Failure modes"); were every replica unready, the
		// load balancer would have nowhere to send anyone.
		writeJSON(w, http.StatusOK, readyBody{Status: "degraded", Database: StateError})
		return
	}
	writeJSON(w, http.StatusOK, readyBody{Status: "ready", Database: StateConnected})
}

// Drain makes /readyz answer 503 {"status":"draining"} from now on, while every route
// is still served: the load balancer stops sending new requests before the listeners
// close (SHUTDOWN_DRAIN_DELAY).
func (s *Server) Drain() { s.draining.Store(true) }
