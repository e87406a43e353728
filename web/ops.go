package web

import (
	"context"
	"net/http"
	"net/netip"
	"time"

	"github.com/hapa-project/hapa/realtime"
)

// OpsDeps are the collaborators of rate limiting, metrics and the operations API, all
// optional: without a Limiter nothing is limited, without a Cache the cache clear
// answers E5002, without Events a clear stays on this replica's caches.
type OpsDeps struct {
	Limiter        RateLimiter      // *realtime.Limiter
	TrustedProxies []netip.Prefix   // peers whose X-Forwarded-For is believed (TRUSTED_PROXIES); none: the peer address
	Cache          CacheClearer     // the response/profile cache (store.MemoryCache or store.RedisCache)
	Events         EventPublisher   // *realtime.Events: cache_cleared reaches the other replicas
	Observer       RequestObserver  // *realtime.Metrics: request counts, durations, error codes
	LastCleanup    func() time.Time // (*realtime.Retention).LastCleanup, shown by the config status
}

// RateLimiter counts a request of a caller (or client IP) in a route group;
// *realtime.Limiter implements it.
type RateLimiter interface {
	Check(ctx context.Context, c realtime.Caller, clientIP, group string) realtime.Decision
	Rules() map[string]realtime.Rate
}

// CacheClearer clears one cache namespace ("" = all) and reports how many entries went.
type CacheClearer interface {
	Clear(ctx context.Context, ns string) (int, error)
}

// EventPublisher publishes cross-replica events; *realtime.Events implements it.
type EventPublisher interface {
	Publish(ctx context.Context, ev realtime.ClusterEvent) error
}

// RequestObserver records HTTP metrics; *realtime.Metrics implements it.
type RequestObserver interface {
	Request(route, method string, status int, d time.Duration)
	Error(code realtime.Code)
}

// opsRoutes registers the operations API (admin scope, group "ops") and the API
// documentation (public).
func (s *Server) opsRoutes(mux *http.ServeMux) {
	mux.Handle("GET /api/v1/errors/dashboard", s.opsHandler(s.handleErrorsDashboard))
	mux.Handle("GET /api/v1/errors/patterns", s.opsHandler(s.handleErrorPatterns))
	mux.Handle("GET /api/v1/errors/incidents/{id}", s.opsHandler(s.handleIncident))
	mux.Handle("GET /api/v1/analytics/performance", s.opsHandler(s.handlePerformance))
	mux.Handle("DELETE /api/v1/cache/clear", s.opsHandler(s.handleCacheClear))
	mux.Handle("GET /api/v1/config/status", s.opsHandler(s.handleConfigStatus))
	mux.HandleFunc("GET /openapi.json", s.handleOpenAPI)
	mux.HandleFunc("GET /docs", s.handleDocs)
}

// opsHandler is an operations endpoint: admin scope, then the "ops" rate limit.
func (s *Server) opsHandler(h http.HandlerFunc) http.Handler {
	return s.requireAuth(ScopeAdmin)(s.limited(realtime.GroupOps, h))
}
