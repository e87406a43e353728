package limits

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/ulule/limiter/v3"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// Config configures the rate limiter. A zero field means the documented default.
type Config struct {
	Disabled     bool            // RATE_LIMIT_ENABLED=false: every check passes and sends no headers
	DefaultRate  Rate            // group "default": DEFAULT_RATE_LIMIT per RATE_LIMIT_WINDOW_MINUTES; default 100/h
	Rules        map[string]Rate // per-group overrides (ParseRules of RATE_LIMIT_RULES) over DefaultRules
	Prefix       string          // Redis key prefix; default "hapa:rl"
	RedisTimeout time.Duration   // longest wait for Redis per check; default 250ms
	CleanEvery   time.Duration   // how often Run drops expired local counters; default 1m
}

// Deps are the limiter's collaborators; all may be nil.
type Deps struct {
	Redis    redis.UniversalClient // nil: count in memory (one replica)
	Breaker  *store.Breaker        // guards Redis, shared with its other users; nil: one of the limiter's own
	Observer Observer              // nil: no metrics
	Logger   *slog.Logger
}

// Observer counts rejected requests for metrics; group is bounded.
type Observer interface {
	RateLimited(group string)
}

// Decision is the outcome of one check. Limit, Remaining and Reset describe the
// group's window for the X-RateLimit-* headers; Err is E4004 or E4016 when the request
// is refused.
type Decision struct {
	Group     string
	Limit     int64
	Remaining int64
	Reset     time.Time // end of the current window
	Enabled   bool      // false: limits are off, send no headers
	Global    bool      // counted in Redis (false: this replica's memory)
	Err       *realtime.Error
}

// Limiter enforces per-subject, per-group rate limits and token quotas for REST
// routes and WebSocket create events alike. A subject is the API key, else the JWT
// user, else the client IP. It is safe for concurrent use; Run cleans local counters.
type Limiter struct {
	cfg    Config
	rates  map[string]limiter.Rate
	local  *memStore
	remote *fallbackStore // nil without Redis
	obs    Observer
}

// NewLimiter builds a limiter. It does not contact Redis: the first check does, and a
// Redis that is down then falls back to local counting.
func NewLimiter(cfg Config, deps Deps) (*Limiter, error) {
	if cfg.Prefix == "" {
		cfg.Prefix = "hapa:rl"
	}
	if cfg.RedisTimeout <= 0 {
		cfg.RedisTimeout = 250 * time.Millisecond
	}
	if cfg.CleanEvery <= 0 {
		cfg.CleanEvery = time.Minute
	}
	rules := mergeRules(cfg.DefaultRate, cfg.Rules)
	l := &Limiter{cfg: cfg, rates: map[string]limiter.Rate{}, local: newMemStore(), obs: deps.Observer}
	var errs []error
	for g, r := range rules {
		if r.Limit <= 0 || r.Period <= 0 {
			errs = append(errs, fmt.Errorf("group %q: limit and period must be positive", g))
			continue
		}
		l.rates[g] = limiter.Rate{Formatted: r.String(), Limit: r.Limit, Period: r.Period}
	}
	if err := errors.Join(errs...); err != nil {
		return nil, fmt.Errorf("realtime: limiter: %w", err)
	}
	if deps.Redis = store.RedisOrNil(deps.Redis); deps.Redis != nil {
		br := deps.Breaker
		if br == nil {
			br = store.NewRedisBreaker(deps.Redis, store.BreakerConfig{Timeout: cfg.RedisTimeout})
		}
		l.remote = newFallbackStore(deps.Redis, cfg.Prefix, cfg.RedisTimeout, br, l.local)
	}
	if l.obs == nil {
		l.obs = nopObserver{}
	}
	return l, nil
}

// Run drops expired local counters every CleanEvery until ctx ends.
func (l *Limiter) Run(ctx context.Context) error {
	t := time.NewTicker(l.cfg.CleanEvery)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			l.local.clean()
		}
	}
}

// Rules returns the effective rule of every group.
func (l *Limiter) Rules() map[string]Rate {
	out := make(map[string]Rate, len(l.rates))
	for g, r := range l.rates {
		out[g] = Rate{Limit: r.Limit, Period: r.Period}
	}
	return out
}

// Subject names whom a request is counted against: "key:<id>", "user:<id>",
// "ip:<addr>", or "anonymous" when nothing is known.
func Subject(c realtime.Caller, clientIP string) string {
	switch {
	case c.KeyID > 0:
		return "key:" + strconv.FormatInt(c.KeyID, 10)
	case c.UserID > 0:
		return "user:" + strconv.FormatInt(c.UserID, 10)
	case clientIP != "":
		return "ip:" + clientIP
	}
	return "anonymous"
}

// Check counts one request of c (or of clientIP when c is anonymous) in group. Unknown
// groups use the "default" rule. Token quotas are the engine's (Quotas.Reserve).
func (l *Limiter) Check(ctx context.Context, c realtime.Caller, clientIP, group string) Decision {
	if l.cfg.Disabled {
		return Decision{Group: group}
	}
	rate, ok := l.rates[group]
	if !ok {
		group = GroupDefault
		rate = l.rates[GroupDefault]
	}
	key := group + ":" + Subject(c, clientIP)
	var (
		lc     limiter.Context
		global bool
	)
	if l.remote != nil {
		lc, global = l.remote.Increment(ctx, key, 1, rate)
	} else {
		lc, _ = l.local.Increment(ctx, key, 1, rate)
	}
	d := Decision{Group: group, Limit: lc.Limit, Remaining: lc.Remaining,
		Reset: time.Unix(lc.Reset, 0), Enabled: true, Global: global}
	if lc.Reached {
		l.obs.RateLimited(group)
		e := realtime.NewError(realtime.CodeRateLimited, fmt.Sprintf("Rate limit exceeded: %d requests per %s for %s", rate.Limit, rate.Period, group))
		e.RetryAfter = max(time.Until(d.Reset), time.Second)
		d.Err = e
		return d
	}
	return d
}

// Admit is Check for a known caller without a client address (the WebSocket hub's
// Admitter): nil when the create may proceed.
func (l *Limiter) Admit(ctx context.Context, c realtime.Caller, group string) *realtime.Error {
	return l.Check(ctx, c, "", group).Err
}

// Fallbacks reports how many checks were counted locally because Redis failed.
func (l *Limiter) Fallbacks() int64 {
	if l.remote == nil {
		return 0
	}
	return l.remote.fallbacks.Load()
}

type nopObserver struct{}

func (nopObserver) RateLimited(string) {}
