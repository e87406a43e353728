package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// RedisCache is the response cache shared by replicas: keys
// "<prefix>cache:<ns>:<key>" with SET EX. Hit and miss counters are this
// process's own. Errors are returned, not hidden: the caller decides to
// bypass the cache. Namespaces must not contain ':'.
type RedisCache struct {
	rdb     *redis.Client
	prefix  string
	timeout time.Duration

	mu    sync.Mutex
	stats map[string]*CacheStats
}

// NewRedisCache returns a cache on rdb under key prefix (e.g. "hapa:"); each
// Get/Set gets opTimeout (≤ 0 means 200ms), Clear and Stats ten times that.
func NewRedisCache(rdb *redis.Client, prefix string, opTimeout time.Duration) *RedisCache {
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

// scan calls fn with each batch of keys matching pattern.
func (c *RedisCache) scan(ctx context.Context, pattern string, fn func([]string) error) error {
	var cursor uint64
	for {
		keys, next, err := c.rdb.Scan(ctx, cursor, pattern, 500).Result()
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
// returns how many were removed.
func (c *RedisCache) Clear(ctx context.Context, ns string) (int, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*c.timeout)
	defer cancel()
	n := 0
	err := c.scan(ctx, c.pattern(ns), func(keys []string) error {
		removed, err := c.rdb.Unlink(ctx, keys...).Result()
		n += int(removed)
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
	_ = c.scan(ctx, c.pattern(""), func(keys []string) error {
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

// NewRedis builds a client from a REDIS_URL (redis://[user:pass@]host:port/db
// or rediss://…) with short timeouts suited to a cache that must never stall
// a request. It does not connect; Ping it to check.
func NewRedis(rawURL string) (*redis.Client, error) {
	opt, err := redis.ParseURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("store: REDIS_URL: %w", err)
	}
	opt.ContextTimeoutEnabled = true // per-op contexts bound the socket deadlines
	if opt.DialTimeout == 0 {
		opt.DialTimeout = 2 * time.Second
	}
	if opt.ReadTimeout == 0 {
		opt.ReadTimeout = time.Second
	}
	if opt.WriteTimeout == 0 {
		opt.WriteTimeout = time.Second
	}
	// Maintenance notifications are a Redis Enterprise feature: against any other
	// server the handshake only fails (and logs) on every new connection.
	opt.MaintNotificationsConfig = &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	return redis.NewClient(opt), nil
}
