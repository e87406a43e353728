package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisCache is the response cache shared by replicas: keys
// "<prefix>cache:<ns>:<key>" with SET EX. Hit and miss counters are this
// process's own. Errors are returned, not hidden: the caller decides to
// bypass the cache. Namespaces must not contain ':'.
type RedisCache struct {
	rdb     redis.UniversalClient
	prefix  string
	timeout time.Duration

	mu    sync.Mutex
	stats map[string]*CacheStats
}

// NewRedisCache returns a cache on rdb under key prefix (e.g. "hapa:"); each
// Get/Set gets opTimeout (≤ 0 means 200ms), Clear and Stats ten times that.
func NewRedisCache(rdb redis.UniversalClient, prefix string, opTimeout time.Duration) *RedisCache {
	if opTimeout <= 0 {
		opTimeout = 200 * time.Millisecond
	}
	return &RedisCache{rdb: rdb, prefix: prefix, timeout: opTimeout, stats: map[string]*CacheStats{}}
}

func (c *RedisCache) key(ns, key string) string { return c.prefix + "cache:" + ns + ":" + key }

func (c *RedisCache) count(ns string, hit bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	s := c.stats[ns]
	if s == nil {
		s = &CacheStats{}
		c.stats[ns] = s
	}
	if hit {
		s.Hits++
	} else {
		s.Misses++
	}
}

// Get returns the value under ns/key; a miss is (nil, false, nil).
func (c *RedisCache) Get(ctx context.Context, ns, key string) ([]byte, bool, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	v, err := c.rdb.Get(ctx, c.key(ns, key)).Bytes()
	switch {
	case errors.Is(err, redis.Nil):
		c.count(ns, false)
		return nil, false, nil
	case err != nil:
		return nil, false, fmt.Errorf("store: redis cache get: %w", err)
	}
	c.count(ns, true)
	return v, true, nil
}

// Set stores val under ns/key for ttl (≤ 0: no expiry).
func (c *RedisCache) Set(ctx context.Context, ns, key string, val []byte, ttl time.Duration) error {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	if ttl < 0 {
		ttl = 0
	}
	if err := c.rdb.Set(ctx, c.key(ns, key), val, ttl).Err(); err != nil {
		return fmt.Errorf("store: redis cache set: %w", err)
	}
	return nil
}

// globEscape quotes Redis MATCH metacharacters.
func globEscape(s string) string {
	return strings.NewReplacer(`\`, `\\`, `*`, `\*`, `?`, `\?`, `[`, `\[`, `]`, `\]`).Replace(s)
}

func (c *RedisCache) pattern(ns string) string {
	if ns == "" {
		return globEscape(c.prefix+"cache:") + "*"
	}
	return globEscape(c.key(ns, "")) + "*"
}

// scan calls fn with each batch of keys matching pattern and the client that holds
// them: the one server, or each master of a Cluster in turn (SCAN sees one node's
// keys).
func (c *RedisCache) scan(ctx context.Context, pattern string, fn func(node redis.Cmdable, keys []string) error) error {
	cc, ok := c.rdb.(*redis.ClusterClient)
	if !ok {
		return scanNode(ctx, c.rdb, pattern, func(keys []string) error { return fn(c.rdb, keys) })
	}
	var mu sync.Mutex // ForEachMaster runs the masters side by side
	return cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		return scanNode(ctx, node, pattern, func(keys []string) error {
			mu.Lock()
			defer mu.Unlock()
			return fn(node, keys)
		})
	})
}

// scanNode calls fn with each batch of one server's keys matching pattern.
func scanNode(ctx context.Context, rdb redis.Cmdable, pattern string, fn func([]string) error) error {
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, pattern, 500).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if err := fn(keys); err != nil {
				return err
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// Clear unlinks every key of ns ("" = all namespaces) with SCAN + UNLINK and
// returns how many were removed. On a Cluster each key is its own UNLINK, pipelined
// (a command over several keys must stay on one hash slot).
func (c *RedisCache) Clear(ctx context.Context, ns string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*c.timeout)
	defer cancel()
	_, cluster := c.rdb.(*redis.ClusterClient)
	n := 0
	err := c.scan(ctx, c.pattern(ns), func(node redis.Cmdable, keys []string) error {
		if !cluster {
			removed, err := node.Unlink(ctx, keys...).Result()
			n += int(removed)
			return err
		}
		cmds, err := node.Pipelined(ctx, func(p redis.Pipeliner) error {
			for _, k := range keys {
				p.Unlink(ctx, k)
			}
			return nil
		})
		for _, cmd := range cmds {
			if u, ok := cmd.(*redis.IntCmd); ok {
				n += int(u.Val())
			}
		}
		return err
	})
	if err != nil {
		return n, fmt.Errorf("store: redis cache clear: %w", err)
	}
	return n, nil
}

// Stats returns this process's hit/miss counters and, per namespace, the
// number of keys in Redis (one SCAN; on error, the counters alone).
func (c *RedisCache) Stats(ctx context.Context) map[string]CacheStats {
	ctx, cancel := context.WithTimeout(ctx, 10*c.timeout)
	defer cancel()
	entries := map[string]int64{}
	base := c.prefix + "cache:"
	_ = c.scan(ctx, c.pattern(""), func(_ redis.Cmdable, keys []string) error {
		for _, k := range keys {
			ns, _, _ := strings.Cut(strings.TrimPrefix(k, base), ":")
			entries[ns]++
		}
		return nil
	})
	out := c.counters()
	for ns, n := range entries {
		s := out[ns]
		s.Entries = n
		out[ns] = s
	}
	return out
}

// counters returns this process's hit and miss counters per namespace.
func (c *RedisCache) counters() map[string]CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]CacheStats, len(c.stats))
	for ns, s := range c.stats {
		out[ns] = *s
	}
	return out
}
