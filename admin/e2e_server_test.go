package admin_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hapa-project/hapa/admin"
	"github.com/hapa-project/hapa/auth"
	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/realtime/ws"
	"github.com/hapa-project/hapa/static"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/vllm"
	"github.com/hapa-project/hapa/vllm/sim"
)

const (
	e2eEmail    = "admin@localhost"
	e2ePassword = "e2e-password-1234"
)

// simPool is the console's view of a pool over the built-in simulator.
type simPool struct{ *vllm.Pool }

func (simPool) Simulated() bool { return true }

// hubStats is the console's view of the hub, as cmd/hapa adapts it.
type hubStats struct{ *ws.Hub }

func (h hubStats) Stats() admin.SocketStats {
	st := h.Hub.Stats()
	return admin.SocketStats{Sessions: st.Sessions, Streams: st.Streams}
}

// e2eServer is the gateway as cmd/hapa wires it for the console: store, simulator,
// pool, engine, hub, admin and static assets on one loopback server.
type e2eServer struct {
	URL   string
	DB    *store.DB
	Cache *store.MemoryCache
}

func newE2EServer(t *testing.T) *e2eServer {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	db, err := store.Open(ctx, "sqlite://:memory:")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	if err := admin.EnsureAdminAs(ctx, db, e2eEmail, e2ePassword, t.Output()); err != nil {
		t.Fatal(err)
	}
	simSrv := httptest.NewServer(sim.New(sim.Config{Seed: 1, TTFT: 30 * time.Millisecond, ITL: 40 * time.Millisecond}))
	pool, err := vllm.NewPool(vllm.PoolConfig{URLs: []string{simSrv.URL}})
	if err != nil {
		t.Fatal(err)
	}
	pool.Probe(ctx)
	go pool.Run(ctx)
	cache := store.NewMemoryCache(1000, nil)
	engine, err := realtime.NewEngine(realtime.EngineConfig{}, realtime.EngineDeps{Upstream: pool, Cache: cache, Log: db.RequestLog()})
	if err != nil {
		t.Fatal(err)
	}
	engineDone := make(chan struct{})
	go func() { engine.Run(ctx); close(engineDone) }()
	authn, err := auth.New(auth.Config{JWTSecret: []byte("e2e-secret-0123456789"), KeyCacheTTL: time.Second}, auth.Deps{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	hub, err := ws.NewHub(ws.Config{}, ws.Deps{Engine: engine, Auth: authn})
	if err != nil {
		t.Fatal(err)
	}
	console, err := admin.New(admin.Config{Version: "e2e"}, admin.Deps{
		DB: db, Cache: cache, Upstreams: simPool{pool}, Realtime: hubStats{hub},
		OnRevoke: func(id int64) {
			authn.Keys().Invalidate(id)
			hub.CloseKey(id, realtime.CodeKeyRevoked, "revoked in the admin console")
		},
		Tokens: authn.Tokens(),
	})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/admin/", console)
	mux.Handle("/admin", console)
	mux.Handle(static.Prefix, static.Handler())
	mux.Handle("GET /api/v1/realtime", hub)
	srv := httptest.NewServer(mux)
	t.Cleanup(func() {
		sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer scancel()
		_ = hub.Shutdown(sctx)
		srv.Close()
		cancel()
		<-engineDone
		simSrv.Close()
		db.Close()
	})
	return &e2eServer{URL: srv.URL, DB: db, Cache: cache}
}
