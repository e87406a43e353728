package store

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// TieredCache is the shared Redis cache with this replica's memory cache behind it:
// when Redis fails, reads and writes go to the local cache, so each replica keeps a
// working cache through a Redis outage (docs/operations.md, "Failure modes"). Failures
// are logged at most once every warnEvery; Redis is tried again on the next call.
type TieredCache struct {
	shared   *RedisCache
	local    *MemoryCache
	log      *slog.Logger
	lastWarn atomic.Int64
}

const warnEvery = 30 * time.Second

// NewTieredCache puts shared in front of local.
func NewTieredCache(shared *RedisCache, local *MemoryCache, log *slog.Logger) *TieredCache {
	return &TieredCache{shared: shared, local: local, log: log}
}

func (c *TieredCache) failed(op string, err error) {
	now := time.Now().UnixNano()
	last := c.lastWarn.Load()
	if now-last >= int64(warnEvery) && c.lastWarn.CompareAndSwap(last, now) {
		c.log.Warn("redis cache failing: using the local cache (E5002)", "op", op, "err", err)
	}
}

// Remote implements realtime.RemoteCache: reads are Redis round trips.
func (c *TieredCache) Remote() bool { return true }

// Get implements realtime.Cache.
func (c *TieredCache) Get(ctx context.Context, ns, key string) ([]byte, bool, error) {
	v, ok, err := c.shared.Get(ctx, ns, key)
	if err != nil {
		c.failed("get", err)
		return c.local.Get(ctx, ns, key)
	}
	return v, ok, nil
}

// Set implements realtime.Cache.
func (c *TieredCache) Set(ctx context.Context, ns, key string, val []byte, ttl time.Duration) error {
	if err := c.shared.Set(ctx, ns, key, val, ttl); err != nil {
		c.failed("set", err)
		return c.local.Set(ctx, ns, key, val, ttl)
	}
	return nil
}

// Clear empties a namespace ("" = all) in both tiers.
func (c *TieredCache) Clear(ctx context.Context, ns string) (int, error) {
	n, err := c.shared.Clear(ctx, ns)
	m, _ := c.local.Clear(ctx, ns)
	return n + m, err
}

// Stats merges both tiers' counters per namespace.
func (c *TieredCache) Stats(ctx context.Context) map[string]CacheStats {
	out := c.shared.Stats(ctx)
	for ns, s := range c.local.Stats(ctx) {
		t := out[ns]
		t.Entries += s.Entries
		t.Hits += s.Hits
		t.Misses += s.Misses
		out[ns] = t
	}
	return out
}
