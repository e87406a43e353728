package web

import (
	"context"
	"net/http"
	"net/netip"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/realtime/limits"
)

// OpsDeps are the collaborators of rate limiting, metrics and the operations API, all
// optional: without a Limiter nothing is limited, without a Cache the cache clear
// answers E5002, without Events a clear stays on this replica's caches.
type OpsDeps struct {
	Limiter        RateLimiter      // *limits.Limiter
	TrustedProxies []netip.Prefix   // peers whose X-Forwarded-For is believed (TRUSTED_PROXIES); none: the peer address
	Cache          CacheClearer     // the response/profile cache (store.MemoryCache or store.RedisCache)
	Events         EventPublisher   // *realtime.Events: cache_cleared reaches the other replicas
	Observer       RequestObserver  // *realtime.Metrics: request counts, durations, error codes
	LastCleanup    func() time.Time // (*realtime.Retention).LastCleanup, shown by the config status
	ClientErrors   ClientErrorTally // *realtime.ClientErrorTally: 4xx answers without a request-log row
}

// RateLimiter counts a request of a caller (or client IP) in a route group;
// *limits.Limiter implements it.
type RateLimiter interface {
	Check(ctx context.Context, c realtime.Caller, clientIP, group string) limits.Decision
	Rules() map[string]limits.Rate
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

// opsHandler is an operations endpoint: admin scope, then the "ops" rate limit.
func (s *Server) opsHandler(h http.HandlerFunc) http.Handler {
	return s.requireAuth(ScopeAdmin)(s.limited(limits.GroupOps, h))
}
