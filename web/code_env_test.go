package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/vllm"
	"github.com/hapa-project/hapa/vllm/sim"
)

var _ realtime.Starter = (*realtime.Engine)(nil)
var _ eventSource = (*realtime.Stream)(nil)

// codeEnv is the web server over the real engine, the real vLLM pool and client, the
// simulator behind httptest, SQLite, the in-memory cache and the incident recorder.
type codeEnv struct {
	*testEnv
	*codeBackend
	key string // an API key with code_generation and code_completion
}

type codeOpts struct {
	sim      sim.Config
	engine   realtime.EngineConfig
	noCache  bool
	noEngine bool
	mod      func(*Config, *Deps)
}

// codeBackend is the engine half of a codeEnv.
type codeBackend struct {
	sim       *sim.Server
	simURL    string
	pool      *vllm.Pool
	engine    *realtime.Engine
	incidents *realtime.IncidentRecorder
	feedback  *realtime.FeedbackRecorder
}

// newBackend starts the simulator, pool, engine and incident recorder over db until
// the test ends.
func newBackend(t testing.TB, db *store.DB, o codeOpts) *codeBackend {
	t.Helper()
	cb := &codeBackend{sim: sim.New(o.sim)}
	simSrv := httptest.NewServer(cb.sim)
	cb.simURL = simSrv.URL
	var err error
	cb.pool, err = vllm.NewPool(vllm.PoolConfig{URLs: []string{simSrv.URL}}) // the default transport
	if err != nil {
		t.Fatal(err)
	}
	cb.incidents = realtime.NewIncidentRecorder(realtime.IncidentConfig{}, realtime.IncidentDeps{Store: db.Incidents()})
	ids := realtime.NewCompletionIDs([]byte("web test secret"))
	cb.feedback = realtime.NewFeedbackRecorder(realtime.EngineConfig{LogFlushInterval: 5 * time.Millisecond},
		realtime.FeedbackDeps{IDs: ids, Store: db.CompletionEvents(), ModelFamily: "deepseek-coder"})
	deps := realtime.EngineDeps{Upstream: cb.pool, Log: db.RequestLog(), Incidents: cb.incidents, CompletionIDs: ids}
	if !o.noCache {
		deps.Cache = store.NewMemoryCache(1000, nil)
	}
	if o.engine.LogFlushInterval == 0 {
		o.engine.LogFlushInterval = 5 * time.Millisecond
	}
	cb.engine, err = realtime.NewEngine(o.engine, deps)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { _ = cb.engine.Run(ctx) })
	wg.Go(func() { _ = cb.incidents.Run(ctx) })
	wg.Go(func() { _ = cb.feedback.Run(ctx) })
	t.Cleanup(func() { cancel(); wg.Wait(); simSrv.Close() })
	return cb
}

func newCodeEnv(t *testing.T, o codeOpts) *codeEnv {
	t.Helper()
	ce := &codeEnv{}
	ce.testEnv = newEnv(t, func(c *Config, d *Deps) {
		ce.codeBackend = newBackend(t, d.DB, o)
		if !o.noEngine {
			d.Engine = ce.engine
		}
		d.Incidents = ce.incidents
		d.Feedback = ce.feedback
		if o.mod != nil {
			o.mod(c, d)
		}
	})
	ce.key, _ = ce.newKey(nil, nil, ScopeCodeGeneration, ScopeCodeCompletion)
	return ce
}

// auth is the header pair of the env's key.
func (ce *codeEnv) auth() []string { return []string{"X-API-Key", ce.key} }

// direct runs req on the engine itself (the one-shot reference result).
func (ce *codeEnv) direct(t testing.TB, req realtime.Request) realtime.Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := ce.engine.Generate(ctx, req)
	if err != nil {
		t.Fatalf("engine.Generate: %v", err)
	}
	return res
}

// poolUpstream adapts the pool the way cmd/hapa should (Deps.Upstream).
func poolUpstream(p *vllm.Pool, simulated bool) Upstream {
	return UpstreamFunc(func(ctx context.Context) UpstreamStatus {
		st := UpstreamStatus{Healthy: p.Healthy(), Simulator: simulated, Adapters: vllm.DefaultAdapters()}
		ms, err := p.Models(ctx)
		st.ModelsErr = err
		for _, m := range ms {
			st.Models = append(st.Models, m.ID)
			if m.Parent == "" && st.BaseModel == "" {
				st.BaseModel = m.ID
			}
		}
		for _, r := range p.Replicas() {
			st.Replicas = append(st.Replicas, ReplicaStatus{URL: r.URL, Healthy: r.Healthy, Circuit: string(r.Circuit),
				InFlight: r.InFlight, Requests: r.Requests, Failures: r.Failures,
				ConsecutiveFailures: r.ConsecutiveFailures, LastError: r.LastError, LastErrorAt: r.LastErrorAt})
		}
		return st
	})
}

// withUpstream serves the information routes with up wired, through the full
// middleware chain (what the routes do once Deps.Upstream exists).
func (ce *codeEnv) withUpstream(t testing.TB, up Upstream) string {
	s := ce.srv
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/code/models", s.authed(s.handleCodeModels(up)))
	mux.Handle("GET /api/v1/code/health", s.authed(s.handleCodeHealth(up)))
	mux.Handle("GET /api/v1/code/backend/status", s.authed(s.handleBackendStatus(up)))
	ts := httptest.NewServer(s.chain(s.dispatch(mux)))
	t.Cleanup(ts.Close)
	return ts.URL
}

func ptrTo[T any](v T) *T { return &v }
