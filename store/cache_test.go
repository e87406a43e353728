package store

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"
)

// cacheContract is what the realtime engine expects of both caches.
type cacheContract interface {
	Get(ctx context.Context, ns, key string) ([]byte, bool, error)
	Set(ctx context.Context, ns, key string, val []byte, ttl time.Duration) error
	Clear(ctx context.Context, ns string) (int, error)
	Stats(ctx context.Context) map[string]CacheStats
}

var (
	_ cacheContract = (*MemoryCache)(nil)
	_ cacheContract = (*RedisCache)(nil)
)

type cacheBackend struct {
	name string
	// open returns a fresh, empty cache and a function that makes ttl pass.
	open func(t *testing.T) (cacheContract, func(time.Duration))
}

func cacheBackends(t *testing.T) []cacheBackend {
	bs := []cacheBackend{{"memory", func(t *testing.T) (cacheContract, func(time.Duration)) {
		clk := newClock()
		return NewMemoryCache(100, clk.Now), clk.Add
	}}}
	if u := os.Getenv("TEST_REDIS_URL"); u != "" {
		bs = append(bs, cacheBackend{"redis", func(t *testing.T) (cacheContract, func(time.Duration)) {
			rdb, err := NewRedis(u)
			mustNoErr(t, err)
			t.Cleanup(func() { rdb.Close() })
			if err := rdb.Ping(context.Background()).Err(); err != nil {
				t.Fatalf("TEST_REDIS_URL unreachable: %v", err)
			}
			c := NewRedisCache(rdb, "t_"+randHex(t, 6)+":", time.Second)
			t.Cleanup(func() { c.Clear(context.Background(), "") })
			return c, func(d time.Duration) { time.Sleep(d) } // Redis keeps its own clock
		}})
	}
	return bs
}

func TestCacheContract(t *testing.T) {
	for _, b := range cacheBackends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			c, advance := b.open(t)
			get := func(ns, key string) (string, bool) {
				t.Helper()
				v, ok, err := c.Get(ctx, ns, key)
				mustNoErr(t, err)
				return string(v), ok
			}
			if _, ok := get("gen", "a"); ok {
				t.Fatal("hit on empty cache")
			}
			mustNoErr(t, c.Set(ctx, "gen", "a", []byte("1"), time.Minute))
			mustNoErr(t, c.Set(ctx, "gen", "a", []byte("2"), time.Minute))
			mustNoErr(t, c.Set(ctx, "gen", "b", []byte("3"), time.Minute))
			mustNoErr(t, c.Set(ctx, "cmp", "a", []byte("x"), time.Minute))
			mustNoErr(t, c.Set(ctx, "cmp", "short", []byte("y"), 100*time.Millisecond))
			tests := []struct{ ns, key, want string }{
				{"gen", "a", "2"}, {"gen", "b", "3"}, {"cmp", "a", "x"}, {"cmp", "b", ""},
			}
			for _, tt := range tests {
				if v, _ := get(tt.ns, tt.key); v != tt.want {
					t.Errorf("Get(%s, %s) = %q, want %q", tt.ns, tt.key, v, tt.want)
				}
			}
			advance(300 * time.Millisecond)
			if _, ok := get("cmp", "short"); ok {
				t.Error("entry outlived its TTL")
			}
			if v, _ := get("cmp", "a"); v != "x" {
				t.Error("long-lived entry lost")
			}
			st := c.Stats(ctx)
			if st["gen"].Entries != 2 || st["gen"].Hits != 2 || st["gen"].Misses != 1 || st["cmp"].Misses != 2 {
				t.Errorf("Stats = %+v", st)
			}
			n, err := c.Clear(ctx, "gen")
			mustNoErr(t, err)
			if n != 2 {
				t.Errorf("Clear(gen) = %d, want 2", n)
			}
			if _, ok := get("gen", "a"); ok {
				t.Error("gen survived Clear")
			}
			if _, ok := get("cmp", "a"); !ok {
				t.Error("Clear(gen) removed cmp")
			}
			mustNoErr(t, c.Set(ctx, "gen", "c", []byte("z"), 0))
			n, err = c.Clear(ctx, "")
			mustNoErr(t, err)
			if n != 2 {
				t.Errorf("Clear(all) = %d, want 2", n)
			}
			if _, ok := get("cmp", "a"); ok {
				t.Error("cmp survived Clear(all)")
			}
		})
	}
}

func TestMemoryCacheLRU(t *testing.T) {
	ctx := context.Background()
	c := NewMemoryCache(3, nil)
	for _, k := range []string{"a", "b", "c"} {
		mustNoErr(t, c.Set(ctx, "ns", k, []byte(k), 0))
	}
	c.Get(ctx, "ns", "a")                          // a is now most recent; b is oldest
	mustNoErr(t, c.Set(ctx, "other", "d", nil, 0)) // evicts b: the limit spans namespaces
	tests := []struct {
		ns, key string
		want    bool
	}{{"ns", "a", true}, {"ns", "b", false}, {"ns", "c", true}, {"other", "d", true}}
	for _, tt := range tests {
		if _, ok, _ := c.Get(ctx, tt.ns, tt.key); ok != tt.want {
			t.Errorf("%s/%s present = %v, want %v", tt.ns, tt.key, ok, tt.want)
		}
	}
	if c.Len() != 3 || c.Stats(ctx)["ns"].Entries != 2 {
		t.Fatalf("Len %d, stats %+v", c.Len(), c.Stats(ctx))
	}
	buf := []byte("mutable")
	mustNoErr(t, c.Set(ctx, "ns", "copy", buf, 0))
	buf[0] = 'X'
	if v, _, _ := c.Get(ctx, "ns", "copy"); string(v) != "mutable" {
		t.Fatalf("Set kept the caller's buffer: %q", v)
	}
}

func TestRedisGlobEscape(t *testing.T) {
	c := NewRedisCache(nil, "p*:", 0)
	if got := c.pattern("a?b"); got != `p\*:cache:a\?b:*` {
		t.Fatalf("pattern = %q", got)
	}
	if _, err := NewRedis("http://nope"); err == nil {
		t.Fatal("bad REDIS_URL accepted")
	}
}

func BenchmarkMemoryCacheGet(b *testing.B) {
	ctx := context.Background()
	c := NewMemoryCache(1000, nil)
	for i := range 1000 {
		c.Set(ctx, "gen", fmt.Sprint(i), []byte("value"), time.Hour)
	}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			c.Get(ctx, "gen", "42")
		}
	})
}
