package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/redis/go-redis/v9"

	"github.com/hapa-project/hapa/admin"
	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/static"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/vllm"
	"github.com/hapa-project/hapa/vllm/sim"
	"github.com/hapa-project/hapa/web"
)

// demoKey is the original demo key hard-coded in the VS Code extension and the landing
// page (contract §5.1); provisioned only with DEMO_API_KEY_ENABLED=true.
const demoKey = "hapa_demo_20241228_secure_key_for_testing"

// app is everything serve builds, in build order; closers run in reverse.
type app struct {
	cfg              Config
	log              *slog.Logger
	listeners        []listener
	loops            []loop
	closers          []func()
	shutdownRealtime func(ctx context.Context)
}

func (a *app) onClose(f func()) { a.closers = append(a.closers, f) }

func (a *app) closeAll() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		a.closers[i]()
	}
}

// build constructs the gateway: store, Redis, metrics, upstream pool (or the built-in
// simulator), engine, limits, incidents, WebSocket hub, admin console and HTTP edge,
// and binds every listener (so a busy port fails here, synchronously).
func build(ctx context.Context, cfg Config, settingsView []effective, log *slog.Logger, stdout io.Writer) (a *app, err error) {
	a = &app{cfg: cfg, log: log}
	built := a // a is nil once an error is returned
	defer func() {
		if err != nil {
			for _, l := range built.listeners {
				l.ln.Close()
			}
			built.closeAll()
		}
	}()

	db, err := openStore(ctx, cfg, log)
	if err != nil {
		return nil, err
	}
	a.onClose(func() { db.Close() })
	if err := provision(ctx, cfg, db, log); err != nil {
		return nil, err
	}

	var rdb *redis.Client
	if cfg.RedisURL != "" {
		if rdb, err = store.NewRedis(cfg.RedisURL); err != nil {
			return nil, err
		}
		a.onClose(func() { rdb.Close() })
		pctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		if perr := rdb.Ping(pctx).Err(); perr != nil {
			log.Warn("redis unreachable at start: serving with local cache and limiter until it returns", "err", perr)
		}
		cancel()
	}

	reg := prometheus.NewRegistry()
	metrics, err := realtime.NewMetrics(realtime.MetricsConfig{NoErrorCounting: !cfg.ErrorMonitoring}, reg)
	if err != nil {
		return nil, err
	}

	pool, simulated, err := a.upstream(ctx, cfg)
	if err != nil {
		return nil, err
	}
	a.loops = append(a.loops, loop{"vllm-probe", func(ctx context.Context) error { pool.Run(ctx); return nil }})

	incidents := realtime.NewIncidentRecorder(realtime.IncidentConfig{Disabled: !cfg.IncidentTracking}, db.Incidents(), metrics, log)
	a.loops = append(a.loops, loop{"incidents", incidents.Run})
	retention := realtime.NewRetention(realtime.RetentionConfig{IncidentDays: cfg.ErrorRetentionDays, RequestLogDays: cfg.RequestLogDays}, db.Incidents(), db.RequestLog(), log)
	a.loops = append(a.loops, loop{"retention", retention.Run})

	memCache := store.NewMemoryCache(cfg.MaxCacheSize, nil)
	var cache interface {
		realtime.Cache
		admin.CacheAdmin
	} = memCache
	if rdb != nil {
		cache = newTieredCache(store.NewRedisCache(rdb, "hapa:", 250*time.Millisecond), memCache, log)
	}

	quotas := realtime.NewQuotas(realtime.QuotaConfig{}, redisClient(rdb), log)
	rules, _ := realtime.ParseRules(cfg.RateLimitRules) // validated with the config
	limiter, err := realtime.NewLimiter(realtime.LimitConfig{
		Disabled:    !cfg.RateLimitEnabled,
		DefaultRate: realtime.Rate{Limit: int64(cfg.DefaultRateLimit), Period: time.Duration(cfg.RateLimitWindowMinutes) * time.Minute},
		Rules:       rules,
	}, realtime.LimitDeps{Redis: redisClient(rdb), Quotas: quotas, Observer: metrics, Logger: log})
	if err != nil {
		return nil, err
	}
	a.loops = append(a.loops, loop{"limiter", limiter.Run})

	keys := store.NewAuthenticator(db.APIKeys(), cfg.APIKeyCacheTTL, nil)
	a.loops = append(a.loops, loop{"key-last-used", keys.Run})

	engine, err := realtime.NewEngine(realtime.EngineConfig{
		Family:              vllm.Family(cfg.VLLMModelFamily),
		Adapters:            mustAdapters(cfg.VLLMAdapters),
		BaseModel:           cfg.VLLMBaseModel,
		CacheTTL:            cfg.CacheTTL,
		CacheMaxTemperature: cfg.CacheMaxTemperature,
		CacheScope:          cfg.CacheScope,
	}, realtime.EngineDeps{
		Upstream:  pool,
		Cache:     cache,
		Log:       quotas.ChargeLog(db.RequestLog()),
		Profiles:  profiles{db.Settings()},
		Incidents: incidents,
		Observer:  metrics,
		Logger:    log,
	})
	if err != nil {
		return nil, err
	}
	a.loops = append(a.loops, loop{"engine", engine.Run})
	reg.MustRegister(realtime.NewScrapeCollector(pool, func() (int, int64) {
		st := engine.Stats()
		return st.LogQueued + st.LogPending, st.LogDropped
	}))

	health := func(ctx context.Context) web.HealthReport {
		r := web.HealthReport{Database: "connected", Redis: "disabled", AIModel: "available", LastCleanup: retention.LastCleanup()}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if db.Ping(pctx) != nil {
			r.Database = "error"
		}
		if rdb != nil {
			r.Redis = "connected"
			if rdb.Ping(pctx).Err() != nil {
				r.Redis = "error"
			}
		}
		switch {
		case simulated:
			r.AIModel = "simulator"
		case !pool.Healthy():
			r.AIModel = "unavailable"
		}
		return r
	}

	// Cross-replica events: a revoked key closes its sockets and leaves the auth cache
	// everywhere; a cache clear reaches every replica (DESIGN §8).
	events := realtime.NewEvents(redisClient(rdb), log)

	var hub *realtime.Hub // built after the HTTP edge, whose authentication it shares
	if err := admin.EnsureAdmin(ctx, db, cfg.AdminPassword, stdout); err != nil {
		return nil, err
	}
	console, err := admin.New(admin.Config{Version: cfg.Version, TrustForwardedProto: len(cfg.TrustedProxies) > 0}, admin.Deps{
		DB:        db,
		Cache:     cache,
		Upstreams: upstreams{pool, simulated},
		Realtime:  hubStats{&hub},
		OnRevoke: func(keyID int64) {
			if err := events.Publish(context.Background(), realtime.ClusterEvent{Type: realtime.EventKeyRevoked, KeyID: keyID}); err != nil {
				log.Warn("revocation not published to other replicas", "key_id", keyID, "err", err)
			}
		},
		Logger: log,
	})
	if err != nil {
		return nil, err
	}
	// /metrics is on the main port unless METRICS_ADDR gives it a listener of its own
	// (to keep it off a public port).
	metricsHandler := promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg})
	var mainMetrics http.Handler = metricsHandler
	if cfg.MetricsAddr != "" {
		mainMetrics = nil
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metricsHandler)
		ln, err := net.Listen("tcp", cfg.MetricsAddr)
		if err != nil {
			return nil, fmt.Errorf("metrics: %w", err)
		}
		a.listeners = append(a.listeners, listener{name: "metrics", ln: ln, srv: web.NewHTTPServer(web.Config{}, mux)}) // defaults: metrics has no bodies
	}

	if cfg.PprofAddr != "" {
		ln, err := net.Listen("tcp", cfg.PprofAddr)
		if err != nil {
			return nil, fmt.Errorf("pprof: %w", err)
		}
		a.listeners = append(a.listeners, listener{name: "pprof", ln: ln, srv: web.NewHTTPServer(web.Config{}, pprofMux())})
	}

	wcfg := web.Config{
		AllowedOrigins: cfg.AllowedOrigins,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		JWTSecret:      []byte(cfg.SecretKey),
		SelfSignup:     cfg.SelfSignup,
		MaxKeysPerUser: cfg.MaxKeysPerUser,
		KeyExpiry:      time.Duration(cfg.APIKeyExpiryDays) * 24 * time.Hour,
		Version:        cfg.Version,
		Environment:    cfg.Environment,
		DemoKey:        cfg.DemoAPIKey,
	}
	srv, err := web.New(wcfg, web.Deps{
		Logger:    log,
		DB:        db,
		Keys:      keys,
		Engine:    engine,
		Upstream:  poolStatus(pool, simulated, engine),
		Health:    health,
		Incidents: incidents,
		Metrics:   mainMetrics,
		Realtime:  http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hub.ServeHTTP(w, r) }),
		Admin:     console,
		// A saved profile reaches the next prompt at once: drop the cached profiles
		// (settings saves are rare; the namespace holds only profiles).
		ProfileChanged: func(ctx context.Context, _ int64) {
			if _, err := cache.Clear(ctx, realtime.NamespaceProfiles); err != nil {
				log.Warn("profile cache not cleared", "err", err)
			}
		},
		Static: static.Handler(),
		Ops: web.OpsDeps{
			Limiter:        limiter,
			TrustedProxies: cfg.TrustedProxies,
			Cache:          cache,
			Events:         events,
			Observer:       metrics,
			LastCleanup:    retention.LastCleanup,
		},
		ConfigStatus: func() map[string]any { return configStatus(settingsView) },
	})
	if err != nil {
		return nil, err
	}
	hub, err = realtime.NewHub(realtime.WSConfig{
		MaxMessageBytes: cfg.WSMaxMessageBytes,
		MaxStreams:      cfg.WSMaxStreams,
		MaxConnsPerKey:  cfg.WSMaxConnsPerKey,
		WriteTimeout:    cfg.WSWriteTimeout,
		PingInterval:    cfg.WSPingInterval,
		AllowedOrigins:  cfg.AllowedOrigins,
		ServerVersion:   cfg.Version,
	}, realtime.HubDeps{Engine: engine, Auth: srv.RealtimeAuth(), Admit: limiter, Observer: metrics, Logger: log})
	if err != nil {
		return nil, err
	}
	a.shutdownRealtime = func(ctx context.Context) {
		if err := hub.Shutdown(ctx); err != nil {
			log.Warn("realtime sessions did not end before the deadline", "err", err)
		}
	}

	events.Subscribe(func(ev realtime.ClusterEvent) {
		switch ev.Type {
		case realtime.EventKeyRevoked:
			keys.Invalidate(ev.KeyID)
			hub.CloseKey(ev.KeyID, realtime.CodeKeyRevoked, "")
		case realtime.EventCacheCleared:
			memCache.Clear(context.Background(), ev.Namespace)
		}
	})
	a.loops = append(a.loops, loop{"events", events.Run})
	if err := a.addListener("main", cfg.Host, cfg.Port, web.NewHTTPServer(wcfg, srv.Handler())); err != nil {
		return nil, err
	}
	if cfg.DBModulePort != 0 {
		if err := a.addListener("db-module", cfg.Host, cfg.DBModulePort, web.NewHTTPServer(wcfg, srv.DBModuleHandler())); err != nil {
			return nil, err
		}
	}
	return a, nil
}

// upstream builds the vLLM pool over VLLM_SERVER_URL, or starts the built-in
// simulator on a loopback port and points the pool at it.
func (a *app) upstream(ctx context.Context, cfg Config) (*vllm.Pool, bool, error) {
	urls := cfg.VLLMServerURLs
	simulated := cfg.Simulated()
	if simulated {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, false, err
		}
		simCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() {
			defer close(done)
			sim.Serve(simCtx, ln, sim.New(sim.Config{Model: cfg.VLLMBaseModel, APIKey: cfg.AIModelAPIKey, TTFT: cfg.SimTTFT, ITL: cfg.SimITL}))
		}()
		a.onClose(func() { stop(); <-done })
		urls = []string{"http://" + ln.Addr().String()}
		a.log.Warn("VLLM_SERVER_URL is not set: using the built-in vLLM simulator", "url", urls[0])
	}
	panics := &everyLog{every: 10 * time.Second}
	pool, err := vllm.NewPool(vllm.PoolConfig{
		URLs:              urls,
		APIKey:            cfg.AIModelAPIKey,
		ConnectTimeout:    cfg.VLLMConnect,
		FirstTokenTimeout: cfg.VLLMFirstToken,
		IdleTimeout:       cfg.VLLMIdle,
		OnCircuit: func(replica string, s vllm.CircuitState) {
			a.log.Warn("upstream circuit changed", "replica", replica, "circuit", string(s))
		},
		OnPanic: func(replica string) {
			if n, ok := panics.due(); ok {
				a.log.Warn("every upstream replica is ejected: routing to the healthy one anyway (panic routing)",
					"replica", replica, "requests_since_last_line", n)
			}
		},
	})
	return pool, simulated, err
}

// everyLog lets a frequent event through to the log at most once per every; due
// reports how many events there were since the last line.
type everyLog struct {
	every time.Duration
	mu    sync.Mutex
	last  time.Time
	n     int
}

func (e *everyLog) due() (int, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	if now := time.Now(); now.Sub(e.last) >= e.every {
		n := e.n
		e.last, e.n = now, 0
		return n, true
	}
	return 0, false
}

func (a *app) addListener(name, host string, port int, srv *http.Server) error {
	ln, err := listen(host, port)
	if err != nil {
		return fmt.Errorf("%s: %w", name, err)
	}
	a.listeners = append(a.listeners, listener{name: name, ln: ln, srv: srv})
	return nil
}

// provision creates what a first start needs: the demo key when enabled.
func provision(ctx context.Context, cfg Config, db *store.DB, log *slog.Logger) error {
	if !cfg.DemoAPIKey {
		return nil
	}
	log.Warn("DEMO_API_KEY_ENABLED: the public demo key of the original extension is accepted; never enable this in production")
	_, err := db.APIKeys().EnsureKey(ctx, demoKey, store.NewKey{
		Name:   "demo",
		Scopes: store.Scopes{store.ScopeCodeGeneration, store.ScopeCodeCompletion, store.ScopeHistory},
	})
	return err
}

// profiles adapts the user_settings table to the engine's Profiles.
type profiles struct{ s *store.Settings }

func (p profiles) Profile(ctx context.Context, userID int64) (realtime.Profile, error) {
	var out realtime.Profile
	us, err := p.s.Get(ctx, userID)
	if err != nil || len(us.Profile) == 0 {
		return out, err
	}
	if err := json.Unmarshal(us.Profile, &out); err != nil {
		return realtime.Profile{}, fmt.Errorf("stored profile of user %d: %w", userID, err)
	}
	return out, nil
}

// poolStatus adapts the pool and the engine's adapter table for /code/models and
// /code/health.
func poolStatus(p *vllm.Pool, simulated bool, e *realtime.Engine) web.Upstream {
	return web.UpstreamFunc(func(ctx context.Context) web.UpstreamStatus {
		cat := e.Models()
		st := web.UpstreamStatus{Healthy: p.Healthy(), Simulator: simulated, BaseModel: cat.BaseModel, Adapters: cat.Tasks}
		ms, err := p.Models(ctx)
		st.ModelsErr = err
		for _, m := range ms {
			st.Models = append(st.Models, m.ID)
		}
		// Any valid key reads these routes: replicas are reported without their last
		// error text (internal addresses); the admin console shows it.
		for _, r := range p.Replicas() {
			st.Replicas = append(st.Replicas, web.ReplicaStatus{URL: r.URL, Healthy: r.Healthy, Circuit: string(r.Circuit),
				InFlight: r.InFlight, Requests: r.Requests, Failures: r.Failures,
				ConsecutiveFailures: r.ConsecutiveFailures, LastErrorAt: r.LastErrorAt})
		}
		return st
	})
}

// upstreams is the console's view of the pool.
type upstreams struct {
	*vllm.Pool
	simulated bool
}

func (u upstreams) Simulated() bool { return u.simulated }

// hubStats reads the hub once it is built (the console is built before it).
type hubStats struct{ hub **realtime.Hub }

func (h hubStats) Stats() realtime.HubStats {
	if *h.hub == nil {
		return realtime.HubStats{}
	}
	return (*h.hub).Stats()
}

// configStatus is GET /api/v1/config/status: every setting, secrets redacted.
func configStatus(view []effective) map[string]any {
	settings := make(map[string]any, len(view))
	for _, e := range view {
		settings[e.Name] = map[string]string{"value": e.Value, "source": e.Source}
	}
	return map[string]any{"version": version, "settings": settings}
}

// redisClient keeps a nil *redis.Client a nil interface.
func redisClient(rdb *redis.Client) redis.UniversalClient {
	if rdb == nil {
		return nil
	}
	return rdb
}

func mustAdapters(s string) map[string]string {
	m, _ := vllm.ParseAdapterMap(s)
	return m
}
