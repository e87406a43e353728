package main

import (
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/realtime/limits"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/vllm"
)

// core is what buildEngine makes: the engine and what every edge shares with it.
type core struct {
	reg       *prometheus.Registry
	metrics   *realtime.Metrics
	incidents *realtime.IncidentRecorder
	retention *realtime.Retention
	limiter   *limits.Limiter
	engine    *realtime.Engine
	feedback  *realtime.FeedbackRecorder
	events    *realtime.Events
	// outages turns a dependency's breaker changes into hapa_dependency_up, log lines
	// and one incident per outage (docs/operations.md, "Failure modes").
	outages *realtime.Outages
}

// buildEngine builds the metrics registry, the incident recorder and retention, the
// rate limiter with token quotas, the cross-replica events and the generation engine.
func (a *app) buildEngine(st *stores, up *upstream) (*core, error) {
	cfg := a.cfg
	c := &core{reg: prometheus.NewRegistry()}
	var err error
	if c.metrics, err = realtime.NewMetrics(realtime.MetricsConfig{NoErrorCounting: !cfg.ErrorMonitoring}, c.reg); err != nil {
		return nil, err
	}
	um, err := realtime.NewUpstreamMetrics(c.reg)
	if err != nil {
		return nil, err
	}
	up.timings.m.Store(um)
	c.incidents = realtime.NewIncidentRecorder(realtime.IncidentConfig{Disabled: !cfg.IncidentTracking},
		realtime.IncidentDeps{Store: st.db.Incidents(), Spool: spoolOrNil(st.incidentSpool), Observer: c.metrics, Logger: a.log})
	a.addLoop("incidents", c.incidents.Run)
	c.outages = realtime.NewOutages(realtime.OutageDeps{Observer: c.metrics, Incidents: c.incidents,
		Resolver: st.db.Incidents(), Logger: a.log})
	a.addLoop("outages", c.outages.Run)
	st.cacheBypassed = c.metrics.CacheError
	if st.breaker != nil {
		// A Redis outage is E5002 (the cache is bypassed; limits, quotas and socket caps
		// count on each replica).
		st.breaker.Watch(c.outages.Watch("redis", realtime.CodeCacheError))
	}
	if st.pg != nil {
		// A PostgreSQL outage is E5003: known keys keep working, request-log rows and
		// incidents wait in the spool (this incident too), new keys get 503.
		st.pg.Watch(c.outages.Watch("postgres", realtime.CodeDatabaseError))
	}
	c.retention = realtime.NewRetention(realtime.RetentionConfig{IncidentDays: cfg.ErrorRetentionDays, RequestLogDays: cfg.RequestLogDays},
		errorTables{st.db}, usageTables{st.db}, a.log)
	a.addLoop("retention", c.retention.Run)

	quotas := limits.NewQuotas(limits.QuotaConfig{Prefix: cfg.RedisPrefix + "q", RedisTimeout: redisTimeout, Breaker: st.breaker}, st.rdb, a.log)
	rules, _ := limits.ParseRules(cfg.RateLimitRules) // validated with the config
	c.limiter, err = limits.NewLimiter(limits.Config{
		Disabled:    !cfg.RateLimitEnabled,
		DefaultRate: limits.Rate{Limit: int64(cfg.DefaultRateLimit), Period: time.Duration(cfg.RateLimitWindowMinutes) * time.Minute},
		Rules:       rules,
		Prefix:      cfg.RedisPrefix + "rl", // RedisTimeout: the default, redisTimeout
	}, limits.Deps{Redis: st.rdb, Breaker: st.breaker, Observer: c.metrics, Logger: a.log})
	if err != nil {
		return nil, err
	}
	a.addLoop("limiter", c.limiter.Run)

	family, _ := vllm.ParseFamily(cfg.VLLMModelFamily) // validated with the config; aliases (qwen, starcoder2) resolve here
	budget := cfg.ContextTokenBudget
	if budget == 0 {
		budget = -1 // the engine's "unused"; its zero is the default
	}
	engineCfg := realtime.EngineConfig{
		Family:              family,
		Languages:           cfg.CompletionLanguages,
		ContextTokenBudget:  budget,
		Adapters:            mustAdapters(cfg.VLLMAdapters),
		BaseModel:           cfg.VLLMBaseModel,
		CacheTTL:            cfg.CacheTTL,
		CacheMaxTemperature: cfg.CacheMaxTemperature,
		CacheScope:          cfg.CacheScope,
	}
	// Completion ids are signed with SECRET_KEY: replicas sharing it take each other's
	// feedback (docs/api.md, "Completion feedback").
	ids := realtime.NewCompletionIDs([]byte(cfg.SecretKey))
	c.feedback = realtime.NewFeedbackRecorder(engineCfg, realtime.FeedbackDeps{IDs: ids, Store: st.db.CompletionEvents(),
		Spool: spoolOrNil(st.feedbackSpool), ModelFamily: string(family), Observer: c.metrics, Logger: a.log})
	a.addLoop("feedback", c.feedback.Run)
	c.engine, err = realtime.NewEngine(engineCfg, realtime.EngineDeps{
		Upstream:      up.pool,
		Cache:         st.cache,
		Log:           quotas.ChargeLog(st.db.RequestLog()),
		Profiles:      profiles{st.db.Settings(), st.pg},
		Quota:         quotas,
		LogSpool:      spoolOrNil(st.logSpool),
		Incidents:     c.incidents,
		CompletionIDs: ids,
		Observer:      c.metrics,
		Logger:        a.log,
	})
	if err != nil {
		return nil, err
	}
	a.addLoop("engine", c.engine.Run)
	a.engine = c.engine
	c.reg.MustRegister(realtime.NewScrapeCollector(up.pool, func() (int, int64) {
		s := c.engine.Stats()
		return s.LogQueued + s.LogPending, s.LogDropped
	}))
	spools := map[string]realtime.SpoolSource{"request_log": nil, "incidents": nil, "completion_events": nil} // zeros without a spool
	if st.logSpool != nil {
		spools["request_log"], spools["incidents"], spools["completion_events"] = st.logSpool, st.incidentSpool, st.feedbackSpool
	}
	c.reg.MustRegister(realtime.NewSpoolCollector(spools, func() int64 { return c.incidents.Stats().Dropped }))

	// Cross-replica events: a revoked key closes its sockets and leaves the auth cache
	// everywhere; a cache clear reaches every replica (docs/operations.md).
	c.events = realtime.NewEvents(st.rdb, cfg.RedisPrefix, a.log).UseBreaker(st.breaker)
	return c, nil
}

// spoolOrNil keeps a nil *store.Spool a nil interface.
func spoolOrNil(s *store.Spool) realtime.Spool {
	if s == nil {
		return nil
	}
	return s
}

func mustAdapters(s string) map[string]string {
	m, _ := vllm.ParseAdapterMap(s)
	return m
}
