package limits

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/common"
	"github.com/ulule/limiter/v3/drivers/store/memory"
	redisstore "github.com/ulule/limiter/v3/drivers/store/redis"
)

// memStore is a limiter.Store over ulule's in-memory counter cache. It replaces
// memory.NewStore because that one starts a cleaner goroutine that only a garbage
// collector finaliser stops; here Limiter.Run owns the cleanup loop.
type memStore struct {
	cache *memory.CacheWrapper
}

func newMemStore() *memStore { return &memStore{cache: memory.NewCache(0)} }

func (s *memStore) Get(ctx context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	return s.Increment(ctx, key, 1, rate)
}

func (s *memStore) Increment(_ context.Context, key string, n int64, rate limiter.Rate) (limiter.Context, error) {
	count, exp := s.cache.Increment(key, n, rate.Period)
	return common.GetContextFromState(time.Now(), rate, exp, count), nil
}

func (s *memStore) Peek(_ context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	count, exp := s.cache.Get(key, rate.Period)
	return common.GetContextFromState(time.Now(), rate, exp, count), nil
}

func (s *memStore) Reset(_ context.Context, key string, rate limiter.Rate) (limiter.Context, error) {
	count, exp := s.cache.Reset(key, rate.Period)
	return common.GetContextFromState(time.Now(), rate, exp, count), nil
}

// clean drops expired counters.
func (s *memStore) clean() { s.cache.Clean() }

// errConnecting answers checks made while another goroutine loads the Lua scripts.
var errConnecting = errors.New("redis limiter store is being connected")

// fallbackStore counts in Redis and, when Redis fails, in a local memStore until a
// retry after backoff succeeds. Redis is never waited on for longer than timeout, so
// an unreachable Redis costs each request at most one timeout per backoff period
// (the first failure), then nothing.
type fallbackStore struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	backoff time.Duration
	local   *memStore
	log     *slog.Logger

	mu        sync.Mutex
	remote    limiter.Store // nil until the Lua scripts are loaded
	downUntil atomic.Int64  // unix nanos; local counting while now < downUntil
	down      atomic.Bool   // for logging transitions once
	fallbacks atomic.Int64  // checks answered locally because Redis failed
}

func newFallbackStore(c redis.UniversalClient, prefix string, timeout, backoff time.Duration, local *memStore, log *slog.Logger) *fallbackStore {
	return &fallbackStore{client: c, prefix: prefix, timeout: timeout, backoff: backoff, local: local, log: log}
}

// store returns the Redis store, building it (which loads the Lua scripts) on first
// use and after it failed to build.
func (s *fallbackStore) store(ctx context.Context) (limiter.Store, error) {
	// One goroutine builds; the others count locally meanwhile instead of queueing
	// behind a Redis that may be timing out.
	if !s.mu.TryLock() {
		return nil, errConnecting
	}
	defer s.mu.Unlock()
	if s.remote != nil {
		return s.remote, nil
	}
	// NewStoreWithOptions loads scripts with context.Background; bound it by pinging
	// first with our deadline so that a dead Redis fails fast.
	if err := s.client.Ping(ctx).Err(); err != nil {
		return nil, err
	}
	st, err := redisstore.NewStoreWithOptions(s.client, limiter.StoreOptions{Prefix: s.prefix})
	if err != nil {
		return nil, err
	}
	s.remote = st
	return st, nil
}

// Increment counts n for key in Redis, or locally while Redis is down.
func (s *fallbackStore) Increment(ctx context.Context, key string, n int64, rate limiter.Rate) (limiter.Context, bool) {
	if time.Now().UnixNano() >= s.downUntil.Load() {
		rctx, cancel := context.WithTimeout(ctx, s.timeout)
		lc, err := s.remoteIncrement(rctx, key, n, rate)
		cancel()
		if err == nil {
			if s.down.Swap(false) {
				s.log.Info("rate limiter: redis is back, counting globally again")
			}
			return lc, true
		}
		if ctx.Err() == nil && !errors.Is(err, errConnecting) { // a caller that left is no evidence against Redis
			s.downUntil.Store(time.Now().Add(s.backoff).UnixNano())
			if !s.down.Swap(true) {
				s.log.Warn("rate limiter: redis failed, counting locally on this replica",
					slog.String("error", err.Error()), slog.Duration("retry_after", s.backoff))
			}
		}
	}
	s.fallbacks.Add(1)
	lc, _ := s.local.Increment(ctx, key, n, rate)
	return lc, false
}

func (s *fallbackStore) remoteIncrement(ctx context.Context, key string, n int64, rate limiter.Rate) (limiter.Context, error) {
	st, err := s.store(ctx)
	if err != nil {
		return limiter.Context{}, err
	}
	lc, err := st.Increment(ctx, key, n, rate)
	if err != nil {
		return limiter.Context{}, err
	}
	if lc.Limit == 0 && lc.Reset == 0 {
		return lc, errors.New("redis returned an empty limiter state")
	}
	return lc, nil
}
