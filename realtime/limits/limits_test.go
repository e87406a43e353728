package limits

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
)

type countingLimitObserver struct{ n atomic.Int64 }

func (c *countingLimitObserver) RateLimited(string) { c.n.Add(1) }

func TestParseRules(t *testing.T) {
	tests := []struct {
		name, in string
		want     map[string]Rate
		errs     []string
	}{
		{"empty", "", map[string]Rate{}, nil},
		{"several", "generation=50/m, completion=600/m,ops=5/10s,default=1000/d", map[string]Rate{
			"generation": {50, time.Minute}, "completion": {600, time.Minute},
			"ops": {5, 10 * time.Second}, "default": {1000, 24 * time.Hour}}, nil},
		{"hour", "stream=7/h", map[string]Rate{"stream": {7, time.Hour}}, nil},
		{"every bad rule listed", "x=1/w,y=0/m,=3/m,z,stream=5/0m,a=1/m,a=2/m",
			nil, []string{`"x=1/w"`, `"y=0/m"`, `"=3/m"`, `"z"`, `"stream=5/0m"`, `"a=2/m"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseRules(tt.in)
			if len(tt.errs) > 0 {
				if err == nil {
					t.Fatalf("ParseRules(%q) = %v, want error", tt.in, got)
				}
				for _, e := range tt.errs {
					if !strings.Contains(err.Error(), e) {
						t.Errorf("error %q does not name %s", err, e)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
			for g, r := range tt.want {
				if got[g] != r {
					t.Errorf("%s: got %v, want %v", g, got[g], r)
				}
			}
		})
	}
}

func TestLimiterDefaults(t *testing.T) {
	l, err := NewLimiter(Config{DefaultRate: Rate{7, 3 * time.Minute}, Rules: map[string]Rate{"ops": {3, time.Minute}}}, Deps{})
	if err != nil {
		t.Fatal(err)
	}
	r := l.Rules()
	for g, want := range map[string]Rate{"generation": {50, time.Minute}, "stream": {20, time.Minute},
		"completion": {600, time.Minute}, "ops": {3, time.Minute}, "default": {7, 3 * time.Minute}} {
		if r[g] != want {
			t.Errorf("%s = %v, want %v", g, r[g], want)
		}
	}
}

// exhaust sends n checks and returns how many were admitted.
func exhaust(t *testing.T, ls []*Limiter, c realtime.Caller, ip, group string, n int) (admitted int) {
	t.Helper()
	for i := 0; i < n; i++ {
		if d := ls[i%len(ls)].Check(context.Background(), c, ip, group); d.Err == nil {
			admitted++
		} else if d.Err.Code != realtime.CodeRateLimited || d.Err.RetryAfter <= 0 {
			t.Fatalf("refusal = %+v, want E4004 with RetryAfter", d.Err)
		}
	}
	return admitted
}

// checkLimiterPerKeyPerGroup: limits hold per subject and group, across the two
// limiters mk returns (two replicas).
func checkLimiterPerKeyPerGroup(t *testing.T, mk func() *Limiter) {
	ls := []*Limiter{mk(), mk()} // two gateway replicas
	a, b := realtime.Caller{KeyID: 1}, realtime.Caller{KeyID: 2}
	if got := exhaust(t, ls, a, "", "ops", 8); got != 5 {
		t.Errorf("key 1 ops admitted %d of 8, want 5 (global limit across replicas)", got)
	}
	if got := exhaust(t, ls, b, "", "ops", 3); got != 3 {
		t.Errorf("key 2 ops admitted %d, want 3 (own bucket)", got)
	}
	if got := exhaust(t, ls, a, "", "stream", 3); got != 2 {
		t.Errorf("key 1 stream admitted %d, want 2 (own group)", got)
	}
	if got := exhaust(t, ls, realtime.Caller{}, "10.0.0.1", "ops", 6); got != 5 {
		t.Errorf("anonymous IP admitted %d, want 5", got)
	}
	if got := exhaust(t, ls, realtime.Caller{}, "10.0.0.2", "ops", 1); got != 1 {
		t.Errorf("other IP admitted %d, want 1", got)
	}
	d := ls[0].Check(context.Background(), realtime.Caller{KeyID: 3}, "", "ops")
	if d.Limit != 5 || d.Remaining != 4 || !d.Enabled || time.Until(d.Reset) > time.Minute+time.Second {
		t.Errorf("decision = %+v", d)
	}
}

// limiterRules are checkLimiterPerKeyPerGroup's rules.
func limiterRules() map[string]Rate {
	return map[string]Rate{"ops": {5, time.Minute}, "stream": {2, time.Minute}}
}

func TestLimiterPerKeyPerGroup(t *testing.T) {
	rules := limiterRules()
	t.Run("memory", func(t *testing.T) {
		l, err := NewLimiter(Config{Rules: rules}, Deps{})
		if err != nil {
			t.Fatal(err)
		}
		// One replica: "two instances" share the process's counters only when they are
		// the same limiter; with memory each replica limits alone.
		checkLimiterPerKeyPerGroup(t, func() *Limiter { return l })
	})
	t.Run("redis", func(t *testing.T) {
		rdb, prefix := storetest.Redis(t)
		checkLimiterPerKeyPerGroup(t, func() *Limiter {
			l, err := NewLimiter(Config{Rules: rules, Prefix: prefix + "rl"}, Deps{Redis: rdb})
			if err != nil {
				t.Fatal(err)
			}
			return l
		})
	})
}

func TestLimiterDisabled(t *testing.T) {
	l, _ := NewLimiter(Config{Disabled: true, Rules: map[string]Rate{"ops": {1, time.Minute}}}, Deps{})
	for i := 0; i < 5; i++ {
		if d := l.Check(context.Background(), realtime.Caller{KeyID: 1}, "", "ops"); d.Err != nil || d.Enabled {
			t.Fatalf("disabled limiter refused or reported headers: %+v", d)
		}
	}
}

func TestLimiterRejectionsCounted(t *testing.T) {
	obs := &countingLimitObserver{}
	l, _ := NewLimiter(Config{Rules: map[string]Rate{"ops": {1, time.Minute}}}, Deps{Observer: obs})
	exhaust(t, []*Limiter{l}, realtime.Caller{KeyID: 9}, "", "ops", 4)
	if obs.n.Load() != 3 {
		t.Errorf("rejections = %d, want 3", obs.n.Load())
	}
}

// TestLimiterRedisOutage breaks Redis (a proxy in front of it is stopped): checks keep
// being answered, locally, with no failure; when the proxy comes back the limiter
// counts in Redis again.
func TestLimiterRedisOutage(t *testing.T) {
	rdb, prefix := storetest.Redis(t)
	proxy := storetest.NewProxy(t, rdb.Options().Addr)
	opt := *rdb.Options()
	opt.Addr = proxy.Addr()
	opt.MaxRetries = -1
	opt.DialTimeout = 200 * time.Millisecond
	viaProxy := redis.NewClient(&opt)
	defer viaProxy.Close()
	l, err := NewLimiter(Config{Rules: map[string]Rate{"ops": {1000, time.Minute}}, Prefix: prefix + "rl"},
		Deps{Redis: viaProxy, Breaker: fastBreaker(t, viaProxy)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	c := realtime.Caller{KeyID: 42}
	if d := l.Check(ctx, c, "", "ops"); !d.Global || d.Err != nil {
		t.Fatalf("before outage: %+v, want counted in redis", d)
	}
	proxy.Refuse()
	for i := 0; i < 20; i++ {
		d := l.Check(ctx, c, "", "ops")
		if d.Err != nil {
			t.Fatalf("during outage check %d failed: %v", i, d.Err)
		}
		if i > 0 && d.Global {
			t.Fatalf("during outage check %d counted globally", i)
		}
	}
	if l.Fallbacks() < 19 {
		t.Errorf("fallbacks = %d, want ≥ 19", l.Fallbacks())
	}
	proxy.Heal()
	deadline := time.Now().Add(5 * time.Second)
	for {
		d := l.Check(ctx, c, "", "ops")
		if d.Err != nil {
			t.Fatalf("after outage: %v", d.Err)
		}
		if d.Global {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("limiter did not return to redis")
		}
		time.Sleep(50 * time.Millisecond)
	}
	n, err := rdb.Get(ctx, prefix+"rl:ops:key:42").Int64()
	if err != nil || n < 2 {
		t.Errorf("redis counter = %d, %v; want ≥ 2 (counting resumed there)", n, err)
	}
}

func BenchmarkLimiterCheck(b *testing.B) {
	bench := func(b *testing.B, l *Limiter) {
		ctx := context.Background()
		c := realtime.Caller{KeyID: 1}
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; i < b.N; i++ {
			l.Check(ctx, c, "", "completion")
		}
	}
	rules := map[string]Rate{"completion": {1 << 40, time.Hour}}
	b.Run("memory", func(b *testing.B) {
		l, _ := NewLimiter(Config{Rules: rules}, Deps{})
		bench(b, l)
	})
	b.Run("redis", func(b *testing.B) {
		rdb, prefix := storetest.Redis(b)
		l, _ := NewLimiter(Config{Rules: rules, Prefix: prefix + "rl"}, Deps{Redis: rdb})
		bench(b, l)
	})
}

// TestLimiterRedisDownAtStart: a limiter whose Redis never answered serves locally,
// then moves to Redis once it is reachable.
func TestLimiterRedisDownAtStart(t *testing.T) {
	rdb, prefix := storetest.Redis(t)
	proxy := storetest.NewProxy(t, rdb.Options().Addr)
	proxy.Refuse()
	opt := *rdb.Options()
	opt.Addr, opt.MaxRetries, opt.DialTimeout = proxy.Addr(), -1, 200*time.Millisecond
	viaProxy := redis.NewClient(&opt)
	defer viaProxy.Close()
	l, err := NewLimiter(Config{Rules: map[string]Rate{"ops": {2, time.Minute}}, Prefix: prefix + "rl"},
		Deps{Redis: viaProxy, Breaker: fastBreaker(t, viaProxy)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if d := l.Check(ctx, realtime.Caller{KeyID: 1}, "", "ops"); d.Err != nil || d.Global {
		t.Fatalf("with Redis down: %+v", d)
	}
	proxy.Heal()
	storetest.WaitFor(t, "counting in Redis", func() bool {
		return l.Check(ctx, realtime.Caller{KeyID: 2}, "", "ops").Global
	})
}

// TestQuotasRedisOutage: charges and checks keep working while Redis is away.
// TestQuotasRedisOutage: while Redis is unavailable a replica counts on from the usage
// Redis last reported (not from zero), settles reservations taken in Redis locally, and
// when Redis answers again adds everything it counted to Redis: the counter ends at the
// usage, no token lost or counted twice.
func TestQuotasRedisOutage(t *testing.T) {
	rdb, prefix := storetest.Redis(t)
	proxy := storetest.NewProxy(t, rdb.Options().Addr)
	opt := *rdb.Options()
	opt.Addr, opt.MaxRetries, opt.DialTimeout = proxy.Addr(), -1, 200*time.Millisecond
	viaProxy := redis.NewClient(&opt)
	defer viaProxy.Close()
	br := fastBreaker(t, viaProxy)
	q := NewQuotas(QuotaConfig{Prefix: prefix + "q", Breaker: br}, viaProxy, nil)
	ctx := context.Background()
	c := realtime.Caller{KeyID: 3, Quota: realtime.Quota{TokensPerDay: 200}}
	counter := func() int64 {
		n, _ := rdb.Get(ctx, q.windows(c, q.now())[0].key).Int64()
		return n
	}
	reserve := func(prompt, maxTokens int) realtime.Reservation {
		t.Helper()
		r, _, e := q.Reserve(ctx, c, prompt, maxTokens)
		if e != nil {
			t.Fatalf("reserve %d+%d: %v", prompt, maxTokens, e)
		}
		return r
	}

	reserve(10, 50).Settle(ctx, 30) // Redis: 30
	inFlight := reserve(10, 50)     // Redis: 90, 60 of them reserved
	if n := counter(); n != 90 {
		t.Fatalf("redis counter %d before the outage, want 90", n)
	}

	proxy.Refuse()
	inFlight.Settle(ctx, 20) // fails in Redis: counted here, owed to Redis (-40)
	if br.Allow() {
		t.Fatal("the breaker did not open")
	}
	r, granted, e := q.Reserve(ctx, c, 10, 200)
	if e != nil || granted != 140 {
		t.Fatalf("reserve during the outage: %d tokens granted, %v; want 140 (200 less the 50 used before it)", granted, e)
	}
	r.Settle(ctx, 100)
	if e := q.Check(ctx, c); e != nil {
		t.Fatalf("check during the outage: %v (used 150 of 200)", e)
	}
	if _, _, e := q.Reserve(ctx, c, 10, 100); e != nil || q.local.get(q.windows(c, q.now())[0].key, q.now()) != 200 {
		t.Fatalf("the local count did not go on from Redis's: %v", e)
	}
	if _, _, e := q.Reserve(ctx, c, 1, 1); e == nil || e.Code != realtime.CodeQuotaExceeded {
		t.Fatalf("local quota not enforced during the outage: %v", e)
	}

	proxy.Heal()
	storetest.WaitFor(t, "the breaker to close", br.Allow)
	// Used: 30 + 20 + 100, and the last reservation of 50 still open.
	storetest.WaitFor(t, "the outage's usage added to Redis", func() bool { return counter() == 200 })
	if n := counter(); n != 200 {
		t.Fatalf("redis counter %d after recovery, want 200", n)
	}
}

func TestTypedNilRedis(t *testing.T) {
	var rdb *redis.Client // REDIS_URL unset in cmd/hapa
	l, err := NewLimiter(Config{}, Deps{Redis: rdb})
	if err != nil {
		t.Fatal(err)
	}
	c := realtime.Caller{KeyID: 1, Quota: realtime.Quota{TokensPerDay: 10}}
	if d := l.Check(context.Background(), c, "", GroupStream); d.Err != nil || d.Global {
		t.Fatalf("%+v", d)
	}
	if _, _, e := NewQuotas(QuotaConfig{}, rdb, nil).Reserve(context.Background(), c, 1, 5); e != nil {
		t.Fatalf("quota with a typed nil Redis: %v", e)
	}
	if err := realtime.NewEvents(rdb, "", nil).Publish(context.Background(), realtime.ClusterEvent{Type: realtime.EventKeyRevoked}); err != nil {
		t.Fatal(err)
	}
}

// fastBreaker is a Redis breaker that probes every 20 ms, closed when the test ends.
func fastBreaker(t *testing.T, rdb redis.UniversalClient) *store.Breaker {
	br := store.NewRedisBreaker(rdb, store.BreakerConfig{Probe: 20 * time.Millisecond})
	t.Cleanup(br.Close)
	return br
}
