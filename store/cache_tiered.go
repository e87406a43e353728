package store

import (
	"context"
	"time"
)

// TieredCache is the shared Redis cache with this replica's memory cache behind it
// (docs/operations.md, "Failure modes"). Writes go to both tiers; reads go to Redis
// while its breaker is closed. When Redis fails the breaker opens, and from then on
// reads and writes use the local cache alone, without waiting on Redis, until the
// breaker's probe finds Redis back: each replica keeps a working cache, with the
// entries it wrote itself, through a Redis outage.
type TieredCache struct {
	shared   *RedisCache
	local    *MemoryCache
	br       *Breaker
	bypassed func(ns string)
}

// TieredDeps are a TieredCache's collaborators.
type TieredDeps struct {
	// Breaker guards the Redis client (shared with its other users); nil means one of
	// the cache's own over shared's client.
	Breaker *Breaker
	// Bypassed is called for every read or write that did not reach Redis: it failed,
	// or the breaker was open (hapa_cache_errors_total). It must be cheap; nil: none.
	Bypassed func(ns string)
}

// NewTieredCache puts shared in front of local.
func NewTieredCache(shared *RedisCache, local *MemoryCache, deps TieredDeps) *TieredCache {
	if deps.Breaker == nil {
		deps.Breaker = NewRedisBreaker(shared.rdb, BreakerConfig{Timeout: shared.timeout})
	}
	if deps.Bypassed == nil {
		deps.Bypassed = func(string) {}
	}
	return &TieredCache{shared: shared, local: local, br: deps.Breaker, bypassed: deps.Bypassed}
}

// Remote implements realtime.RemoteCache: reads are Redis round trips.
func (c *TieredCache) Remote() bool { return true }

// Get implements realtime.Cache: Redis while it answers, else the local cache. The
// error is always nil: a failure of Redis is counted (Bypassed) and opens the breaker.
func (c *TieredCache) Get(ctx context.Context, ns, key string) ([]byte, bool, error) {
	if c.br.Allow() {
		v, ok, err := c.shared.Get(ctx, ns, key)
		if err == nil {
			return v, ok, nil
		}
		if ctx.Err() != nil {
			return nil, false, err // the caller left
		}
		c.br.Fail(ctx, err)
	}
	c.bypassed(ns)
	return c.local.Get(ctx, ns, key)
}

// Set implements realtime.Cache: both tiers, Redis only while its breaker is closed.
func (c *TieredCache) Set(ctx context.Context, ns, key string, val []byte, ttl time.Duration) error {
	_ = c.local.Set(ctx, ns, key, val, ttl)
	if !c.br.Allow() {
		c.bypassed(ns)
		return nil
	}
	if err := c.shared.Set(ctx, ns, key, val, ttl); err != nil && ctx.Err() == nil {
		c.br.Fail(ctx, err)
		c.bypassed(ns)
	}
	return nil
}

// Clear empties a namespace ("" = all) in both tiers. While Redis is unavailable the
// local tier is cleared and ErrBreakerOpen returned: Redis's entries are still there.
func (c *TieredCache) Clear(ctx context.Context, ns string) (int, error) {
	m, _ := c.local.Clear(ctx, ns)
	if !c.br.Allow() {
		return m, ErrBreakerOpen
	}
	n, err := c.shared.Clear(ctx, ns)
	if err != nil {
		c.br.Fail(ctx, err)
	}
	return n + m, err
}

// Stats merges both tiers' counters per namespace. Entries are Redis's while it
// answers (the local tier holds copies of them), else the local tier's: no SCAN is
// sent while the breaker is open.
func (c *TieredCache) Stats(ctx context.Context) map[string]CacheStats {
	up := c.br.Allow()
	var out map[string]CacheStats
	if up {
		out = c.shared.Stats(ctx)
	} else {
		out = c.shared.counters()
	}
	for ns, s := range c.local.Stats(ctx) {
		t := out[ns]
		if !up {
			t.Entries += s.Entries
		}
		t.Hits += s.Hits
		t.Misses += s.Misses
		out[ns] = t
	}
	return out
}
