package limits

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"
	"github.com/ulule/limiter/v3/drivers/store/common"
	"github.com/ulule/limiter/v3/drivers/store/memory"
	redisstore "github.com/ulule/limiter/v3/drivers/store/redis"

	"github.com/hapa-project/hapa/store"
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

// errEmptyState is a reply of Redis without a limiter state: counted locally once,
// but no evidence that Redis is down.
var errEmptyState = errors.New("redis returned an empty limiter state")

// fallbackStore counts in Redis and, while the Redis breaker is open, in a local
// memStore. Redis is never waited on for longer than timeout, and only while the
// breaker is closed: an unreachable Redis costs the checks in flight when it fails one
// timeout, then nothing until the breaker's probe finds it back (store.Breaker).
type fallbackStore struct {
	client  redis.UniversalClient
	prefix  string
	timeout time.Duration
	br      *store.Breaker
	local   *memStore

	mu        sync.Mutex
	remote    limiter.Store // nil until the Lua scripts are loaded
	fallbacks atomic.Int64  // checks answered locally because Redis failed or its breaker was open
}

func newFallbackStore(c redis.UniversalClient, prefix string, timeout time.Duration, br *store.Breaker, local *memStore) *fallbackStore {
	return &fallbackStore{client: c, prefix: prefix, timeout: timeout, br: br, local: local}
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

// Increment counts n for key in Redis, or locally while Redis is unavailable.
func (s *fallbackStore) Increment(ctx context.Context, key string, n int64, rate limiter.Rate) (limiter.Context, bool) {
	if s.br.Allow() {
		rctx, cancel := context.WithTimeout(ctx, s.timeout)
		lc, err := s.remoteIncrement(rctx, key, n, rate)
		cancel()
		if err == nil {
			return lc, true
		}
		if !errors.Is(err, errConnecting) && !errors.Is(err, errEmptyState) {
			s.br.Fail(ctx, err)
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
		return lc, errEmptyState
	}
	return lc, nil
}
