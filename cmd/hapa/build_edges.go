package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/hapa-project/hapa/admin"
	"github.com/hapa-project/hapa/auth"
	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/realtime/limits"
	"github.com/hapa-project/hapa/realtime/ws"
	"github.com/hapa-project/hapa/static"
	"github.com/hapa-project/hapa/web"
)

// buildEdges builds what callers reach, in dependency order with no knot:
// authentication, the editor socket hub, the admin console, the HTTP edge (which
// mounts the hub and the console), its listeners, and the subscription to
// cross-replica events.
func (a *app) buildEdges(ctx context.Context, st *stores, up *upstream, c *core, settingsView []effective) error {
	cfg := a.cfg
	authn, err := auth.New(auth.Config{JWTSecret: []byte(cfg.SecretKey), KeyCacheTTL: cfg.APIKeyCacheTTL,
		KeyStaleTTL: cfg.APIKeyStaleTTL, CheckInterval: cfg.RevocationCheck}, auth.Deps{DB: st.db})
	if err != nil {
		return err
	}
	if st.pg != nil {
		authn.UseBreaker(st.pg)
	}
	if err := authn.Load(ctx); err != nil {
		return fmt.Errorf("load logged-out tokens: %w", err)
	}
	a.addLoop("key-last-used", authn.Keys().Run)

	var leases ws.ConnLeases // the socket cap per key counts every replica's sockets through Redis
	if st.rdb != nil {
		sockets := limits.NewSockets(limits.SocketConfig{Prefix: cfg.RedisPrefix + "ws", RedisTimeout: redisTimeout, Breaker: st.breaker}, st.rdb, a.log)
		a.addLoop("socket-leases", sockets.Run)
		leases = sockets
	}
	hub, err := ws.NewHub(ws.Config{
		MaxMessageBytes: cfg.WSMaxMessageBytes,
		MaxStreams:      cfg.WSMaxStreams,
		MaxConnsPerKey:  cfg.WSMaxConnsPerKey,
		WriteTimeout:    cfg.WSWriteTimeout,
		PingInterval:    cfg.WSPingInterval,
		AllowedOrigins:  socketOrigins(cfg),
		ServerVersion:   cfg.Version,
	}, ws.Deps{Engine: c.engine, Auth: authn, Admit: c.limiter, Leases: leases, Observer: c.metrics, Logger: a.log, Feedback: c.feedback})
	if err != nil {
		return err
	}
	a.hub = hub

	console, err := admin.New(admin.Config{Version: cfg.Version, TrustForwardedProto: len(cfg.TrustedProxies) > 0,
		RealtimeURL: cfg.realtimeURL()}, admin.Deps{
		DB:        st.db,
		Cache:     st.cache,
		Upstreams: upstreams{up.pool, up.simulated},
		Realtime:  hubStats{hub},
		OnRevoke: func(keyID int64) {
			if err := c.events.Publish(context.Background(), realtime.ClusterEvent{Type: realtime.EventKeyRevoked, KeyID: keyID}); err != nil {
				a.log.Warn("revocation not published to other replicas", "key_id", keyID, "err", err)
			}
		},
		DBAvailable: st.pg.Allow,
		Tokens:      authn.Tokens(),
		Logger:      a.log,
	})
	if err != nil {
		return err
	}
	a.addLoop("upstream-states", console.SyncUpstreams) // drains and disables set on any replica

	// /metrics is on the main port unless METRICS_ADDR gives it a listener of its own
	// (to keep it off a public port).
	metricsHandler := promhttp.HandlerFor(c.reg, promhttp.HandlerOpts{Registry: c.reg})
	var mainMetrics http.Handler = metricsHandler
	sideServer := func(h http.Handler) *http.Server { return web.NewHTTPServer(web.Config{}, h) } // defaults: no bodies
	if cfg.MetricsAddr != "" {
		mainMetrics = nil
		mux := http.NewServeMux()
		mux.Handle("GET /metrics", metricsHandler)
		if err := a.addSideListener("metrics", cfg.MetricsAddr, mux, sideServer); err != nil {
			return err
		}
	}
	if cfg.PprofAddr != "" {
		if err := a.addSideListener("pprof", cfg.PprofAddr, pprofMux(), sideServer); err != nil {
			return err
		}
	}

	wcfg := web.Config{
		AllowedOrigins: cfg.AllowedOrigins,
		MaxBodyBytes:   cfg.MaxBodyBytes,
		SelfSignup:     cfg.SelfSignup,
		MaxKeysPerUser: cfg.MaxKeysPerUser,
		KeyExpiry:      time.Duration(cfg.APIKeyExpiryDays) * 24 * time.Hour,
		Version:        cfg.Version,
		Environment:    cfg.Environment,
		DemoKey:        cfg.DemoAPIKey,
	}
	// Client errors without a request-log row, counted for the error dashboard of
	// every replica (docs/operations.md, "Operations API").
	clientErrors := realtime.NewClientErrorTally(realtime.ClientErrorConfig{Disabled: !cfg.ErrorMonitoring}, st.db.ClientErrors(), a.log)
	a.addLoop("client-errors", clientErrors.Run)
	srv, err := web.New(wcfg, web.Deps{
		Logger:      a.log,
		DB:          st.db,
		Auth:        authn,
		Engine:      c.engine,
		Feedback:    c.feedback,
		Upstream:    poolStatus(up.pool, up.simulated, c.engine),
		Health:      healthReport(st, up, c.retention),
		DBAvailable: st.pg.Allow,
		Incidents:   c.incidents,
		Metrics:     mainMetrics,
		Realtime:    hub,
		Admin:       console,
		// A saved profile reaches the next prompt at once: drop the cached profiles
		// (settings saves are rare; the namespace holds only profiles).
		ProfileChanged: func(ctx context.Context, _ int64) {
			if _, err := st.cache.Clear(ctx, realtime.NamespaceProfiles); err != nil {
				a.log.Warn("profile cache not cleared", "err", err)
			}
		},
		Static: static.Handler(),
		Ops: web.OpsDeps{
			Limiter:        c.limiter,
			TrustedProxies: cfg.TrustedProxies,
			Cache:          st.cache,
			Events:         c.events,
			Observer:       c.metrics,
			LastCleanup:    c.retention.LastCleanup,
			ClientErrors:   clientErrors,
		},
		ConfigStatus: func() map[string]any { return configStatus(settingsView) },
	})
	if err != nil {
		return err
	}
	a.web = srv

	// Revocation on every replica and transport (docs/operations.md, "Running several
	// replicas"): at once through the events bus, and from the database every
	// REVOCATION_CHECK_INTERVAL whether or not an event came.
	endKey := func(keyID int64, e *realtime.Error) {
		c.engine.RevokeKey(keyID, e) // SSE, /v1 and socket streams end with e
		hub.CloseKey(keyID, e.Code, "")
	}
	authn.Tokens().OnRevoke = func(id string, exp time.Time) {
		ev := realtime.ClusterEvent{Type: realtime.EventTokenRevoked, TokenID: id, Expires: exp}
		if err := c.events.Publish(context.Background(), ev); err != nil {
			a.log.Warn("logout not published to other replicas (they read it from the database)", "err", err)
		}
	}
	c.events.Subscribe(func(ev realtime.ClusterEvent) {
		switch ev.Type {
		case realtime.EventKeyRevoked:
			authn.Keys().Revoked(ev.KeyID) // refused at once, also while the database is away
			endKey(ev.KeyID, realtime.NewError(realtime.CodeKeyRevoked, ""))
		case realtime.EventTokenRevoked:
			authn.Tokens().Deny(ev.TokenID, ev.Expires)
		case realtime.EventCacheCleared:
			st.memCache.Clear(context.Background(), ev.Namespace)
		}
	})
	a.addLoop("events", c.events.Run)
	a.addLoop("revocations", func(ctx context.Context) error { return authn.Watch(ctx, a.log, endKey) })
	if err := a.addListener("main", cfg.Host, cfg.Port, web.NewHTTPServer(wcfg, srv.Handler())); err != nil {
		return err
	}
	if cfg.DBModulePort != 0 {
		if err := a.addListener("db-module", cfg.Host, cfg.DBModulePort, web.NewHTTPServer(wcfg, srv.DBModuleHandler())); err != nil {
			return err
		}
	}
	return nil
}

// socketOrigins are the browser origins the socket accepts: ALLOWED_ORIGINS and
// PUBLIC_URL's, where the admin playground runs.
func socketOrigins(cfg Config) []string {
	out := append([]string(nil), cfg.AllowedOrigins...)
	if o := cfg.publicOrigin(); o != "" {
		out = append(out, o)
	}
	return out
}
