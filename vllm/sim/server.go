package sim

import (
	"context"
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Server is the simulator: an http.Handler serving vLLM's OpenAI-compatible API.
type Server struct {
	cfg     Config
	mux     *http.ServeMux
	faults  atomic.Pointer[Faults]
	slots   chan struct{} // MaxNumSeqs sequence slots
	seq     atomic.Uint64 // request counter, seeds per-request randomness
	metrics *metrics
	started time.Time

	requests, running, waiting, aborted, completed, errors atomic.Int64

	abortMu sync.Mutex
	abortCh chan struct{} // closed and replaced on every abort
}

// Stats are the simulator's counters, readable from tests.
type Stats struct {
	Requests  int64 // generation requests admitted past auth and validation
	Running   int64 // holding a sequence slot now
	Waiting   int64 // queued for a slot now
	Aborted   int64 // ended because the client went away (finished_reason="abort")
	Completed int64 // ended with stop or length
	Errors    int64 // ended by an injected fault
}

// New returns a simulator for cfg.
func New(cfg Config) *Server {
	cfg = cfg.withDefaults()
	s := &Server{
		cfg: cfg, mux: http.NewServeMux(), slots: make(chan struct{}, cfg.MaxNumSeqs),
		metrics: newMetrics(), started: time.Now(), abortCh: make(chan struct{}),
	}
	f := cfg.Faults
	s.faults.Store(&f)
	s.mux.HandleFunc("POST /v1/completions", s.auth(s.serveCompletion(false)))
	s.mux.HandleFunc("POST /v1/chat/completions", s.auth(s.serveCompletion(true)))
	s.mux.HandleFunc("GET /v1/models", s.auth(s.serveModels))
	s.mux.HandleFunc("GET /health", s.serveHealth)
	s.mux.HandleFunc("GET /metrics", s.serveMetrics)
	s.mux.HandleFunc("GET /version", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusOK, map[string]string{"version": "0.11.0+hapa.sim"})
	})
	s.mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) {
		writeJSON(w, http.StatusNotFound, map[string]string{"detail": "Not Found"})
	})
	return s
}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.mux.ServeHTTP(w, r) }

// Config returns the effective configuration (defaults filled in, faults as started).
func (s *Server) Config() Config { return s.cfg }

// SetFaults replaces the injected faults; requests already running keep theirs.
func (s *Server) SetFaults(f Faults) { s.faults.Store(&f) }

// Faults returns the injected faults now in force.
func (s *Server) Faults() Faults { return *s.faults.Load() }

// Stats returns the counters.
func (s *Server) Stats() Stats {
	return Stats{
		Requests: s.requests.Load(), Running: s.running.Load(), Waiting: s.waiting.Load(),
		Aborted: s.aborted.Load(), Completed: s.completed.Load(), Errors: s.errors.Load(),
	}
}

// WaitAborted blocks until at least n requests were aborted or ctx is done.
func (s *Server) WaitAborted(ctx context.Context, n int64) error {
	for {
		s.abortMu.Lock()
		ch := s.abortCh
		s.abortMu.Unlock()
		if s.aborted.Load() >= n {
			return nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

func (s *Server) countAbort() {
	s.abortMu.Lock()
	s.aborted.Add(1)
	close(s.abortCh)
	s.abortCh = make(chan struct{})
	s.abortMu.Unlock()
}

// auth enforces --api-key on /v1/* exactly as vLLM does.
func (s *Server) auth(h http.HandlerFunc) http.HandlerFunc {
	if s.cfg.APIKey == "" {
		return h
	}
	want := []byte("Bearer " + s.cfg.APIKey)
	return func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get("Authorization")), want) != 1 {
			writeJSON(w, http.StatusUnauthorized, map[string]string{"error": "Unauthorized"})
			return
		}
		h(w, r)
	}
}

func (s *Server) serveHealth(w http.ResponseWriter, _ *http.Request) {
	if s.Faults().HealthDown {
		w.WriteHeader(http.StatusServiceUnavailable)
		return
	}
	w.WriteHeader(http.StatusOK) // vLLM answers an empty 200
}

type modelCard struct {
	ID          string       `json:"id"`
	Object      string       `json:"object"`
	Created     int64        `json:"created"`
	OwnedBy     string       `json:"owned_by"`
	Root        string       `json:"root"`
	Parent      *string      `json:"parent"`
	MaxModelLen *int         `json:"max_model_len"`
	Permission  []permission `json:"permission"`
}

type permission struct {
	ID                 string `json:"id"`
	Object             string `json:"object"`
	Created            int64  `json:"created"`
	AllowCreateEngine  bool   `json:"allow_create_engine"`
	AllowSampling      bool   `json:"allow_sampling"`
	AllowLogprobs      bool   `json:"allow_logprobs"`
	AllowSearchIndices bool   `json:"allow_search_indices"`
	AllowView          bool   `json:"allow_view"`
	AllowFineTuning    bool   `json:"allow_fine_tuning"`
	Organization       string `json:"organization"`
	IsBlocking         bool   `json:"is_blocking"`
}

func (s *Server) serveModels(w http.ResponseWriter, _ *http.Request) {
	created := s.started.Unix()
	perm := []permission{{ID: "modelperm-sim", Object: "model_permission", Created: created,
		AllowSampling: true, AllowLogprobs: true, AllowView: true, Organization: "*"}}
	base := s.cfg.Model
	maxLen := s.cfg.MaxModelLen
	data := []modelCard{{ID: base, Object: "model", Created: created, OwnedBy: "vllm",
		Root: base, MaxModelLen: &maxLen, Permission: perm}}
	for _, a := range s.cfg.Adapters {
		data = append(data, modelCard{ID: a, Object: "model", Created: created, OwnedBy: "vllm",
			Root: "/loras/" + a, Parent: &base, Permission: perm})
	}
	writeJSON(w, http.StatusOK, map[string]any{"object": "list", "data": data})
}

// adapterOf returns the adapter serving model ("" for the base model) and whether
// the model is served at all.
func (s *Server) adapterOf(model string) (string, bool) {
	if model == s.cfg.Model {
		return "", true
	}
	for _, a := range s.cfg.Adapters {
		if a == model {
			return a, true
		}
	}
	return "", false
}

func writeJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

// errorBody is vLLM's (>= 0.10.1) error shape.
func errorBody(status int, typ, msg string, param *string) map[string]any {
	return map[string]any{"error": map[string]any{
		"message": msg, "type": typ, "param": param, "code": status,
	}}
}

func writeError(w http.ResponseWriter, status int, typ, msg string, param *string) {
	writeJSON(w, status, errorBody(status, typ, msg, param))
}

// errorType names the exception class vLLM reports for a status.
func errorType(status int) string {
	switch status {
	case 400:
		return "BadRequestError"
	case 404:
		return "NotFoundError"
	case 429:
		return "RateLimitError"
	case 503:
		return "ServiceUnavailableError"
	}
	if status >= 500 {
		return "InternalServerError"
	}
	return strings.ReplaceAll(http.StatusText(status), " ", "") + "Error"
}
