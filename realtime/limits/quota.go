package limits

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// QuotaConfig configures token quotas. A zero field means the documented default.
type QuotaConfig struct {
	Prefix       string        // Redis key prefix; default "hapa:q"
	RedisTimeout time.Duration // longest wait for Redis per operation; default 250ms
	RedisRetry   time.Duration // local counting after a Redis failure before retrying; default 2s
}

// Quotas counts the tokens each API key used in the current minute and UTC day and
// refuses new requests (E4016) of a key whose usage has reached its quota. Usage is
// charged after a stream ends, from vLLM's real usage, so a stream that is admitted
// is never cut: a key may overshoot its quota by what its last streams used.
// Counters live in Redis when a client is given (shared by replicas; INCRBY with an
// expiry per window), else in memory; a failing Redis falls back to memory.
type Quotas struct {
	cfg   QuotaConfig
	rdb   redis.UniversalClient
	log   *slog.Logger
	now   func() time.Time
	local localCounters

	downUntil atomic.Int64
}

// NewQuotas builds the quota counters; rdb may be nil.
func NewQuotas(cfg QuotaConfig, rdb redis.UniversalClient, log *slog.Logger) *Quotas {
	if cfg.Prefix == "" {
		cfg.Prefix = "hapa:q"
	}
	if cfg.RedisTimeout <= 0 {
		cfg.RedisTimeout = 250 * time.Millisecond
	}
	if cfg.RedisRetry <= 0 {
		cfg.RedisRetry = 2 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Quotas{cfg: cfg, rdb: nilRedis(rdb), log: log, now: time.Now, local: localCounters{m: map[string]counter{}}}
}

// window is one quota window of a key.
type window struct {
	key   string
	limit int64
	end   time.Time
}

// windows returns c's limited windows at now (none when c has no key or no quota).
func (q *Quotas) windows(c realtime.Caller, now time.Time) []window {
	if c.KeyID <= 0 {
		return nil
	}
	id := strconv.FormatInt(c.KeyID, 10)
	now = now.UTC()
	var ws []window
	if c.Quota.TokensPerMinute > 0 {
		start := now.Truncate(time.Minute)
		ws = append(ws, window{q.cfg.Prefix + ":" + id + ":m:" + strconv.FormatInt(start.Unix(), 10), c.Quota.TokensPerMinute, start.Add(time.Minute)})
	}
	if c.Quota.TokensPerDay > 0 {
		start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		ws = append(ws, window{q.cfg.Prefix + ":" + id + ":d:" + start.Format("20060102"), c.Quota.TokensPerDay, start.Add(24 * time.Hour)})
	}
	return ws
}

// Check returns E4016, with RetryAfter up to the end of the exhausted window (the later
// one when both are), when c
// has already used all the tokens of one of its quotas; nil otherwise (and for
// unlimited keys).
func (q *Quotas) Check(ctx context.Context, c realtime.Caller) *realtime.Error {
	now := q.now()
	ws := q.windows(c, now)
	if len(ws) == 0 {
		return nil
	}
	used := q.read(ctx, ws, now)
	var worst *window // the exhausted window that ends last
	var n int64
	for i := range ws {
		if used[i] >= ws[i].limit && (worst == nil || ws[i].end.After(worst.end)) {
			worst, n = &ws[i], used[i]
		}
	}
	if worst != nil {
		per := "minute"
		if worst.end.Sub(now) > time.Minute {
			per = "day"
		}
		e := realtime.NewError(realtime.CodeQuotaExceeded, fmt.Sprintf("Token quota exceeded: %d of %d tokens per %s used", n, worst.limit, per))
		e.RetryAfter = max(worst.end.Sub(now), time.Second)
		return e
	}
	return nil
}

// Charge adds tokens (prompt + completion) to c's windows now; it does nothing for
// keys without a quota. The gateway charges through ChargeLog, from the request log;
// Charge is for callers outside the engine. It waits at most 4×RedisTimeout.
func (q *Quotas) Charge(ctx context.Context, c realtime.Caller, tokens int64) {
	if c.KeyID <= 0 || tokens <= 0 || len(q.windows(c, q.now())) == 0 {
		return
	}
	id := c.KeyID
	q.chargeRows(ctx, []store.RequestLogRow{{KeyID: &id, TokensIn: int(tokens), CreatedAt: q.now()}})
}

// read returns the usage of each window.
func (q *Quotas) read(ctx context.Context, ws []window, now time.Time) []int64 {
	used := make([]int64, len(ws))
	if q.useRedis(now) {
		keys := make([]string, len(ws))
		for i, w := range ws {
			keys[i] = w.key
		}
		rctx, cancel := context.WithTimeout(ctx, q.cfg.RedisTimeout)
		vals, err := q.rdb.MGet(rctx, keys...).Result()
		cancel()
		if err == nil {
			for i, v := range vals {
				if s, ok := v.(string); ok {
					used[i], _ = strconv.ParseInt(s, 10, 64)
				}
			}
			return used
		}
		if ctx.Err() == nil {
			q.redisFailed(err)
		}
	}
	for i, w := range ws {
		used[i] = q.local.get(w.key, now)
	}
	return used
}

func (q *Quotas) useRedis(now time.Time) bool {
	return q.rdb != nil && now.UnixNano() >= q.downUntil.Load()
}

func (q *Quotas) redisFailed(err error) {
	q.downUntil.Store(q.now().Add(q.cfg.RedisRetry).UnixNano())
	q.log.Warn("quotas: redis failed, counting locally on this replica", slog.String("error", err.Error()))
}

// counter is one local window's usage.
type counter struct {
	n   int64
	end time.Time
}

// localCounters holds the in-memory windows; expired ones are dropped on write.
type localCounters struct {
	mu      sync.Mutex
	m       map[string]counter
	sweepAt int // sweep expired windows when the map reaches this size
}

func (l *localCounters) add(key string, n int64, end, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if len(l.m) >= l.sweepAt {
		for k, c := range l.m {
			if !now.Before(c.end) {
				delete(l.m, k)
			}
		}
		l.sweepAt = 2*len(l.m) + 1024
	}
	c := l.m[key]
	c.n += n
	c.end = end
	l.m[key] = c
}

func (l *localCounters) get(key string, now time.Time) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.m[key]; ok && now.Before(c.end) {
		return c.n
	}
	return 0
}
