package main

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/realtime/ws"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/web"
)

// demoKey is the original demo key hard-coded in the VS Code extension and the landing
// page (docs/compatibility.md, "Keys, tokens and rate limits"); provisioned only with
// DEMO_API_KEY_ENABLED=true.
const demoKey = "hapa_demo_20241228_secure_key_for_testing"

// app is everything serve builds, in build order; closers run in reverse.
type app struct {
	cfg       Config
	log       *slog.Logger
	listeners []listener
	loops     []loop
	closers   []func()
	hub       *ws.Hub // shut down before the HTTP servers (they ignore hijacked sockets)
	web       *web.Server
	engine    *realtime.Engine
}

func (a *app) onClose(f func()) { a.closers = append(a.closers, f) }

func (a *app) closeAll() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

func (a *app) addLoop(name string, run func(context.Context) error) {
	a.loops = append(a.loops, loop{name, run})
}

// build constructs the gateway in four steps — persistence (buildStore), the vLLM
// pool or the built-in simulator (buildUpstream), the engine with its limits,
// incidents and metrics (buildEngine), and the edges: authentication, the socket
// hub, the admin console and the HTTP server (buildEdges) — and binds every listener,
// so a busy port fails here, synchronously. On failure everything built so far is
// closed again.
func build(ctx context.Context, cfg Config, settingsView []effective, log *slog.Logger, stdout io.Writer) (*app, error) {
	a := &app{cfg: cfg, log: log}
	if err := a.build(ctx, settingsView, stdout); err != nil {
		for _, l := range a.listeners {
			l.ln.Close()
		}
		a.closeAll()
		return nil, err
	}
	return a, nil
}

func (a *app) build(ctx context.Context, settingsView []effective, stdout io.Writer) error {
	st, err := a.buildStore(ctx, stdout)
	if err != nil {
		return err
	}
	up, err := a.buildUpstream(ctx)
	if err != nil {
		return err
	}
	core, err := a.buildEngine(st, up)
	if err != nil {
		return err
	}
	return a.buildEdges(ctx, st, up, core, settingsView)
}

// addListener binds host:port for srv.
func (a *app) addListener(name, host string, port int, srv *http.Server) error {
	ln, err := listen(host, port)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	a.listeners = append(a.listeners, listener{name: name, ln: ln, srv: a.logErrors(srv)})
	return nil
}

// logErrors sends srv's own error lines (TLS handshakes, broken connections) to the
// process log at WARN instead of Go's log package.
func (a *app) logErrors(srv *http.Server) *http.Server {
	if srv.ErrorLog == nil {
		srv.ErrorLog = slog.NewLogLogger(a.log.Handler(), slog.LevelWarn)
	}
	return srv
}

// addSideListener binds addr (METRICS_ADDR, PPROF_ADDR) for a small handler of its own.
func (a *app) addSideListener(name, addr string, h http.Handler, newServer func(http.Handler) *http.Server) error {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	a.listeners = append(a.listeners, listener{name: name, ln: ln, srv: a.logErrors(newServer(h))})
	return nil
}

// pingRedis warns once at start when Redis does not answer, and returns the error:
// the caller opens Redis's breaker, so the gateway serves with its local cache and
// limiter until the breaker's probe finds Redis.
func pingRedis(ctx context.Context, rdb redis.UniversalClient, log *slog.Logger) error {
	pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	err := store.PingRedis(pctx, rdb)
	if err != nil {
		log.Warn("redis unreachable at start: serving with local cache and limiter until it returns", "err", err)
	}
	return err
}
