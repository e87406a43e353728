package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
)

// commandCounter is a go-redis hook counting the commands a client sends, PINGs apart
// (the breaker's probes).
type commandCounter struct{ n atomic.Int64 }

func (c *commandCounter) DialHook(next redis.DialHook) redis.DialHook { return next }

func (c *commandCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error {
		if cmd.Name() != "ping" {
			c.n.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (c *commandCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

// tieredEnv is a tiered cache over a Redis reached through a fault proxy.
type tieredEnv struct {
	proxy    *storetest.Proxy
	direct   *redis.Client // the same Redis, not through the proxy
	prefix   string
	sent     *commandCounter
	br       *store.Breaker
	cache    *store.TieredCache
	bypassed sync.Map // namespace → *atomic.Int64
}

const tieredTimeout = 100 * time.Millisecond

func newTieredEnv(t testing.TB) *tieredEnv {
	rdb, prefix := storetest.Redis(t)
	e := &tieredEnv{direct: rdb, prefix: prefix, sent: &commandCounter{}}
	e.proxy = storetest.NewProxy(t, rdb.Options().Addr)
	via, err := store.NewRedis("redis://" + e.proxy.Addr() + "/" + fmt.Sprint(rdb.Options().DB))
	if err != nil {
		t.Fatal(err)
	}
	via.AddHook(e.sent)
	t.Cleanup(func() { via.Close() })
	e.br = store.NewRedisBreaker(via, store.BreakerConfig{Timeout: tieredTimeout, Probe: 20 * time.Millisecond})
	t.Cleanup(e.br.Close)
	e.cache = store.NewTieredCache(store.NewRedisCache(via, prefix, tieredTimeout), store.NewMemoryCache(100, nil),
		store.TieredDeps{Breaker: e.br, Bypassed: func(ns string) {
			n, ok := e.bypassed.Load(ns)
			if !ok {
				n, _ = e.bypassed.LoadOrStore(ns, new(atomic.Int64))
			}
			n.(*atomic.Int64).Add(1)
		}})
	return e
}

func (e *tieredEnv) bypasses(ns string) int64 {
	n, ok := e.bypassed.Load(ns)
	if !ok {
		return 0
	}
	return n.(*atomic.Int64).Load()
}

// TestTieredCacheOutage: with Redis refused, black-holed or slow, a cached entry stays
// a hit; only the first read waits (one timeout), and after it nothing is sent to
// Redis until the breaker's probe finds it back. Every read or write that did not
// reach Redis is counted as bypassed. After Heal reads come from Redis again.
func TestTieredCacheOutage(t *testing.T) {
	faults := []struct {
		name  string
		apply func(p *storetest.Proxy)
	}{
		{"refused", (*storetest.Proxy).Refuse},
		{"black hole", (*storetest.Proxy).BlackHole},
		{"slow", func(p *storetest.Proxy) { p.Slow(3 * tieredTimeout) }},
	}
	for _, f := range faults {
		t.Run(f.name, func(t *testing.T) {
			e := newTieredEnv(t)
			ctx := context.Background()
			mustSet(t, e.cache, "gen", "k", "v1")
			f.apply(e.proxy)

			start := time.Now()
			if v, ok, err := e.cache.Get(ctx, "gen", "k"); err != nil || !ok || string(v) != "v1" {
				t.Fatalf("first read in the outage: %q %v %v", v, ok, err)
			}
			first := time.Since(start)
			if e.br.Allow() {
				t.Fatal("the breaker did not open")
			}
			sent := e.sent.n.Load()
			start = time.Now()
			const reads = 200
			for i := range reads {
				if v, ok, err := e.cache.Get(ctx, "gen", "k"); err != nil || !ok || string(v) != "v1" {
					t.Fatalf("read %d in the outage: %q %v %v", i, v, ok, err)
				}
			}
			rest := time.Since(start) / reads
			mustSet(t, e.cache, "gen", "new", "v2") // written locally, not to Redis
			if e.sent.n.Load() != sent {
				t.Fatalf("%d commands sent to Redis with the breaker open", e.sent.n.Load()-sent)
			}
			if got := e.bypasses("gen"); got != reads+2 {
				t.Errorf("bypassed %d, want %d", got, reads+2)
			}
			t.Logf("%s: first read %v (timeout %v), then %v a read", f.name, first.Round(time.Microsecond), tieredTimeout, rest)

			e.proxy.Heal()
			storetest.WaitFor(t, "the breaker to close", e.br.Allow)
			// Redis is the reference again: a value changed there is what is read.
			if err := e.direct.Set(ctx, e.prefix+"cache:gen:k", "v3", time.Minute).Err(); err != nil {
				t.Fatal(err)
			}
			if v, ok, err := e.cache.Get(ctx, "gen", "k"); err != nil || !ok || string(v) != "v3" {
				t.Fatalf("after Heal: %q %v %v, want Redis's v3", v, ok, err)
			}
		})
	}
}

func mustSet(t testing.TB, c *store.TieredCache, ns, key, val string) {
	t.Helper()
	if err := c.Set(context.Background(), ns, key, []byte(val), time.Minute); err != nil {
		t.Fatal(err)
	}
}

// TestTieredCacheClearAndStatsWhileDown: neither waits on a Redis whose breaker is
// open; Clear says Redis's entries were not cleared.
func TestTieredCacheClearAndStatsWhileDown(t *testing.T) {
	e := newTieredEnv(t)
	ctx := context.Background()
	mustSet(t, e.cache, "gen", "a", "1")
	if st := e.cache.Stats(ctx); st["gen"].Entries != 1 {
		t.Fatalf("stats with Redis up: %+v (the local copy is not counted twice)", st)
	}
	e.proxy.BlackHole()
	e.br.Trip(context.DeadlineExceeded)
	start := time.Now()
	st := e.cache.Stats(ctx)
	n, err := e.cache.Clear(ctx, "gen")
	if took := time.Since(start); took > 50*tieredTimeout {
		t.Fatalf("Stats and Clear took %v with the breaker open", took)
	}
	if st["gen"].Entries != 1 || n != 1 || err == nil || !strings.Contains(err.Error(), "breaker open") {
		t.Fatalf("stats %+v, clear %d %v", st, n, err)
	}
}

// BenchmarkTieredCacheGet compares a cache hit with no Redis configured (the memory
// cache alone), through the tiered cache with Redis up, and with Redis black-holed
// after its breaker opened: the last is what every request pays during an outage.
func BenchmarkTieredCacheGet(b *testing.B) {
	ctx := context.Background()
	run := func(b *testing.B, get func() ([]byte, bool, error)) {
		b.ReportAllocs()
		for b.Loop() {
			if _, ok, err := get(); !ok || err != nil {
				b.Fatalf("miss or error: %v", err)
			}
		}
	}
	b.Run("no-redis", func(b *testing.B) {
		m := store.NewMemoryCache(100, nil)
		m.Set(ctx, "gen", "k", []byte("value"), time.Minute)
		run(b, func() ([]byte, bool, error) { return m.Get(ctx, "gen", "k") })
	})
	for _, down := range []bool{false, true} {
		name := map[bool]string{false: "redis-up", true: "redis-black-holed"}[down]
		b.Run(name, func(b *testing.B) {
			e := newTieredEnv(b)
			mustSet(b, e.cache, "gen", "k", "value")
			if down {
				e.proxy.BlackHole()
				e.cache.Get(ctx, "gen", "k") // the one timeout, which opens the breaker
				if e.br.Allow() {
					b.Fatal("the breaker did not open")
				}
			}
			run(b, func() ([]byte, bool, error) { return e.cache.Get(ctx, "gen", "k") })
		})
	}
}
