package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hapa-project/hapa/admin"
	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// stores is what buildStore makes: the database, the optional Redis client, and the
// response cache (this replica's memory, behind Redis when configured).
type stores struct {
	db            *store.DB
	logSpool      *store.Spool // nil without SPOOL_DIR
	incidentSpool *store.Spool
	feedbackSpool *store.Spool          // completion events
	rdb           redis.UniversalClient // nil without REDIS_URL
	memCache      *store.MemoryCache
	cache         interface {
		realtime.Cache
		admin.CacheAdmin
	}
	// breaker guards rdb for every one of its users: the cache, the limiter, quotas,
	// socket leases and events (store.Breaker says why one for all); nil without Redis.
	breaker *store.Breaker
	// pg is the database's breaker (PostgreSQL only; nil with SQLite, which is a file
	// beside the process): while it is open, key lookups answer from their last known
	// good entry and the routes that need the database answer 503 E5003 at once.
	pg *store.Breaker
	// cacheBypassed counts a cache operation that did not reach Redis; buildEngine
	// points it at the metrics (nothing reads it before serving starts).
	cacheBypassed func(ns string)
}

// pgTimeout bounds the database breaker's probe (a ping).
const pgTimeout = time.Second

// redisTimeout is the longest any request waits for Redis, and the breaker's probe
// timeout; redisProbe is how often the breaker probes a Redis that failed
// (docs/operations.md, "Failure modes").
const (
	redisTimeout = 250 * time.Millisecond
	redisProbe   = time.Second
)

// buildStore opens (and when allowed migrates) the database, provisions what a first
// start needs (the demo key, the bootstrap admin) and connects Redis.
func (a *app) buildStore(ctx context.Context, stdout io.Writer) (*stores, error) {
	cfg := a.cfg
	routeLibraryLogs(a.log)
	db, err := openStore(ctx, cfg, a.log)
	if err != nil {
		return nil, err
	}
	a.onClose(func() { db.Close() })
	if err := provision(ctx, cfg, db, a.log); err != nil {
		return nil, err
	}
	if err := admin.EnsureAdmin(ctx, db, cfg.AdminPassword, stdout); err != nil {
		return nil, err
	}
	st := &stores{db: db, memCache: store.NewMemoryCache(cfg.MaxCacheSize, nil), cacheBypassed: func(string) {}}
	if db.Dialect() == store.Postgres {
		st.pg = store.NewBreaker(db.Ping, store.BreakerConfig{Timeout: pgTimeout, Probe: time.Second})
		a.onClose(st.pg.Close)
		a.addLoop("postgres-monitor", func(ctx context.Context) error { return st.pg.Monitor(ctx, 2*time.Second) })
	}
	if cfg.SpoolDir != "" {
		max := int64(cfg.SpoolMaxMB) << 20
		if st.logSpool, err = store.OpenSpool(filepath.Join(cfg.SpoolDir, "request_log"), max*3/4); err != nil {
			return nil, fmt.Errorf("SPOOL_DIR: %w", err)
		}
		if st.incidentSpool, err = store.OpenSpool(filepath.Join(cfg.SpoolDir, "incidents"), max/8); err != nil {
			return nil, fmt.Errorf("SPOOL_DIR: %w", err)
		}
		if st.feedbackSpool, err = store.OpenSpool(filepath.Join(cfg.SpoolDir, "completion_events"), max/8); err != nil {
			return nil, fmt.Errorf("SPOOL_DIR: %w", err)
		}
		a.onClose(func() { st.logSpool.Close(); st.incidentSpool.Close(); st.feedbackSpool.Close() })
		if n, _ := st.logSpool.Len(); n > 0 {
			a.log.Info("spooled request-log rows from an earlier run will be written", "rows", n)
		}
	}
	st.cache = st.memCache
	if cfg.RedisURL != "" {
		rdb, err := store.NewRedis(cfg.RedisURL)
		if err != nil {
			return nil, err
		}
		a.onClose(func() { rdb.Close() })
		st.rdb = rdb
		st.breaker = store.NewRedisBreaker(rdb, store.BreakerConfig{Timeout: redisTimeout, Probe: redisProbe})
		a.onClose(st.breaker.Close) // before the client closes
		if err := pingRedis(ctx, rdb, a.log); err != nil {
			st.breaker.Trip(err)
		}
		st.cache = store.NewTieredCache(store.NewRedisCache(rdb, cfg.RedisPrefix, redisTimeout), st.memCache,
			store.TieredDeps{Breaker: st.breaker, Bypassed: func(ns string) { st.cacheBypassed(ns) }})
	}
	return st, nil
}

// provision creates what a first start needs: the demo key when enabled.
func provision(ctx context.Context, cfg Config, db *store.DB, log *slog.Logger) error {
	if !cfg.DemoAPIKey {
		return nil
	}
	log.Warn("DEMO_API_KEY_ENABLED: the public demo key of the original extension is accepted; never enable this in production")
	owner, err := demoOwner(ctx, db)
	if err != nil {
		return err
	}
	k, err := db.APIKeys().EnsureKey(ctx, demoKey, store.NewKey{
		UserID: &owner,
		Name:   "demo",
		Scopes: store.Scopes{store.ScopeCodeGeneration, store.ScopeCodeCompletion, store.ScopeHistory},
	})
	if err != nil {
		return err
	}
	return db.APIKeys().AdoptOrphan(ctx, k.ID, owner) // a demo key made before it had an owner
}

// demoEmail owns the demo key, so its traffic is someone's in the usage figures and the
// request log (a domain without a dot: self-signup never creates it).
const demoEmail = "demo@localhost"

// demoOwner returns the id of the demo key's account, creating it on first use.
func demoOwner(ctx context.Context, db *store.DB) (int64, error) {
	u, err := db.Users().ByEmail(ctx, demoEmail)
	if errors.Is(err, store.ErrNotFound) {
		u, err = db.Users().Create(ctx, store.User{Email: demoEmail, Name: "Demo key (DEMO_API_KEY_ENABLED)"})
		if errors.Is(err, store.ErrConflict) { // another replica made it
			u, err = db.Users().ByEmail(ctx, demoEmail)
		}
	}
	return u.ID, err
}
