package limits

import (
	"context"
	"fmt"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// QuotaConfig configures token quotas. A zero field means the documented default.
type QuotaConfig struct {
	Prefix       string        // Redis key prefix; default "hapa:q"
	RedisTimeout time.Duration // longest wait for Redis per operation; default 250ms
	// Breaker guards Redis, shared with its other users (store.Breaker); nil: one of
	// the quotas' own. While it is open the counters are this replica's memory.
	Breaker *store.Breaker
}

// Quotas counts the model tokens each API key used in the current minute and UTC day
// (docs/operations.md, "Token quotas"). A key with a quota reserves, before an upstream
// generation starts, the tokens it may use — its prompt (estimated) and max_tokens,
// lowered to what is left — atomically in every window, and settles the reservation
// with what it was charged when it ends: concurrent requests cannot spend the same
// tokens twice, and a request is never given more than its key has left. A key
// without a quota costs nothing at admission; its usage is still counted, from the
// request log (ChargeLog), so a quota set later applies to the window's usage.
//
// Counters live in Redis when a client is given (shared by replicas; one Lua script
// per reservation, keys of one key id on one hash slot), else in memory. While Redis
// is unavailable (its breaker open) the replica counts on from the usage Redis last
// reported for each window, and keeps what it counted as owed to Redis: when the
// breaker closes, those increments are added to Redis's counters, so an outage loses
// no usage (docs/operations.md, "Failure modes").
type Quotas struct {
	cfg   QuotaConfig
	rdb   redis.UniversalClient
	log   *slog.Logger
	now   func() time.Time
	local localCounters
	br    *store.Breaker
}

// NewQuotas builds the quota counters; rdb may be nil.
func NewQuotas(cfg QuotaConfig, rdb redis.UniversalClient, log *slog.Logger) *Quotas {
	if cfg.Prefix == "" {
		cfg.Prefix = "hapa:q"
	}
	if cfg.RedisTimeout <= 0 {
		cfg.RedisTimeout = 250 * time.Millisecond
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	q := &Quotas{cfg: cfg, rdb: store.RedisOrNil(rdb), log: log, now: time.Now, local: localCounters{m: map[string]counter{}}, br: cfg.Breaker}
	if q.rdb != nil {
		if q.br == nil {
			q.br = store.NewRedisBreaker(q.rdb, store.BreakerConfig{Timeout: cfg.RedisTimeout})
		}
		q.br.Watch(func(up bool, _ error) {
			if up {
				go func() {
					q.flushPending(context.Background())
					// Operations that chose local counting just before the breaker
					// closed finish within one timeout: flush what they counted too.
					time.Sleep(2 * q.cfg.RedisTimeout)
					q.flushPending(context.Background())
				}()
			}
		})
	}
	return q
}

// window is one quota window of a key.
type window struct {
	key   string
	limit int64
	end   time.Time
	day   bool
}

// windows returns c's limited windows at now (none when c has no key or no quota).
// The key id is a Redis hash tag, so a script over both windows of a key runs on one
// Redis Cluster slot.
func (q *Quotas) windows(c realtime.Caller, now time.Time) []window {
	if c.KeyID <= 0 {
		return nil
	}
	id := "{" + strconv.FormatInt(c.KeyID, 10) + "}"
	now = now.UTC()
	var ws []window
	if c.Quota.TokensPerMinute > 0 {
		start := now.Truncate(time.Minute)
		ws = append(ws, window{q.cfg.Prefix + ":" + id + ":m:" + strconv.FormatInt(start.Unix(), 10), c.Quota.TokensPerMinute, start.Add(time.Minute), false})
	}
	if c.Quota.TokensPerDay > 0 {
		start := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
		ws = append(ws, window{q.cfg.Prefix + ":" + id + ":d:" + start.Format("20060102"), c.Quota.TokensPerDay, start.Add(24 * time.Hour), true})
	}
	return ws
}

// Check implements realtime.QuotaReserver: E4016, with RetryAfter up to the end of the
// exhausted window (the later one when both are), when c has used all the tokens of
// one of its quotas; nil otherwise (and for keys without a quota).
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
	if worst == nil {
		return nil
	}
	return q.exceeded(*worst, n, now)
}

// exceeded is the E4016 of window w with used tokens.
func (q *Quotas) exceeded(w window, used int64, now time.Time) *realtime.Error {
	per := "minute"
	if w.day {
		per = "day"
	}
	e := realtime.NewError(realtime.CodeQuotaExceeded, fmt.Sprintf("Token quota exceeded: %d of %d tokens per %s used", used, w.limit, per))
	e.RetryAfter = max(w.end.Sub(now), time.Second)
	return e
}

// Reserve implements realtime.QuotaReserver. It reserves prompt+maxTokens tokens of
// c, or what is left when that is less but still covers the prompt and one token;
// the max_tokens granted is the reservation less the prompt.
func (q *Quotas) Reserve(ctx context.Context, c realtime.Caller, prompt, maxTokens int) (realtime.Reservation, int, *realtime.Error) {
	now := q.now()
	ws := q.windows(c, now)
	if len(ws) == 0 {
		return nil, maxTokens, nil
	}
	need, least := int64(prompt+maxTokens), int64(prompt+1)
	granted, blocked, used := q.reserve(ctx, ws, need, least, now)
	if granted == 0 {
		return nil, 0, q.exceeded(ws[blocked], used, now)
	}
	return &reservation{q: q, ws: ws, amount: granted}, int(granted) - prompt, nil
}

// reserve takes min(need, least left in any window) in every window, when that is at
// least least; else it takes nothing and returns 0 with the blocking window's index
// and usage.
func (q *Quotas) reserve(ctx context.Context, ws []window, need, least int64, now time.Time) (granted int64, blocked int, used int64) {
	if q.useRedis() {
		rctx, cancel := context.WithTimeout(ctx, q.cfg.RedisTimeout)
		g, b, u, err := q.reserveRedis(rctx, ws, need, least, now)
		cancel()
		if err == nil {
			return g, b, u
		}
		q.redisFailed(ctx, err)
	}
	return q.local.reserve(ws, need, least, now, q.rdb != nil)
}

// reserveScript is reserve in Redis, atomic across the key's windows.
// KEYS: the windows. ARGV: need, least, then each window's limit, then each window's
// expiry in milliseconds. Returns {granted, each window's usage after it} or
// {0, blocking window (1-based), its usage}.
var reserveScript = redis.NewScript(`
local n = #KEYS
local grant = tonumber(ARGV[1])
local blocked, blockedUsed = 0, 0
for i = 1, n do
  local used = tonumber(redis.call('GET', KEYS[i]) or '0')
  local left = tonumber(ARGV[2 + i]) - used
  if left < grant then
    grant, blocked, blockedUsed = left, i, used
  end
end
if grant < tonumber(ARGV[2]) then
  return {0, blocked, blockedUsed}
end
local out = {grant}
for i = 1, n do
  out[i + 1] = redis.call('INCRBY', KEYS[i], grant)
  redis.call('PEXPIRE', KEYS[i], ARGV[2 + n + i])
end
return out
`)

func (q *Quotas) reserveRedis(ctx context.Context, ws []window, need, least int64, now time.Time) (int64, int, int64, error) {
	keys := make([]string, len(ws))
	args := make([]any, 0, 2+2*len(ws))
	args = append(args, need, least)
	for i, w := range ws {
		keys[i] = w.key
		args = append(args, w.limit)
	}
	for _, w := range ws {
		args = append(args, expiry(w, now).Milliseconds())
	}
	r, err := reserveScript.Run(ctx, q.rdb, keys, args...).Int64Slice()
	if err != nil || len(r) == 0 {
		return 0, 0, 0, fmt.Errorf("quota reserve: %w", err)
	}
	if r[0] > 0 {
		for i, w := range ws {
			if i+1 < len(r) {
				q.local.mirror(w.key, r[i+1], w.end, now)
			}
		}
		return r[0], 0, 0, nil
	}
	if len(r) < 3 {
		return 0, 0, 0, nil
	}
	q.local.mirror(ws[r[1]-1].key, r[2], ws[r[1]-1].end, now)
	return 0, int(r[1]) - 1, r[2], nil
}

// expiry is how long a window's counter is kept: to the window's end and a minute.
func expiry(w window, now time.Time) time.Duration {
	return max(w.end.Sub(now), 0) + time.Minute
}

// reservation is the tokens reserved for one subscription in its windows.
type reservation struct {
	q      *Quotas
	ws     []window
	amount int64
	once   sync.Once
}

// Settle implements realtime.Reservation: the windows the reservation was taken in are
// adjusted by used - reserved (a window that has expired meanwhile is left alone).
func (r *reservation) Settle(ctx context.Context, used int) {
	r.once.Do(func() {
		if delta := int64(used) - r.amount; delta != 0 {
			r.q.adjust(ctx, r.ws, delta)
		}
	})
}

// settleScript adds ARGV[1] to each window that still exists.
var settleScript = redis.NewScript(`
for i = 1, #KEYS do
  if redis.call('EXISTS', KEYS[i]) == 1 then
    redis.call('INCRBY', KEYS[i], ARGV[1])
  end
end
return 1
`)

func (q *Quotas) adjust(ctx context.Context, ws []window, delta int64) {
	now := q.now()
	if q.useRedis() {
		keys := make([]string, len(ws))
		for i, w := range ws {
			keys[i] = w.key
		}
		rctx, cancel := context.WithTimeout(ctx, q.cfg.RedisTimeout)
		err := settleScript.Run(rctx, q.rdb, keys, delta).Err()
		cancel()
		if err == nil {
			for _, w := range ws {
				q.local.add(w.key, delta, w.end, now, false) // keep the mirror near Redis
			}
			return
		}
		q.redisFailed(ctx, err)
	}
	for _, w := range ws {
		q.local.add(w.key, delta, w.end, now, q.rdb != nil)
	}
}

// Charge adds tokens (prompt + completion) to c's windows now; it does nothing for
// keys without a quota. The gateway charges through reservations and ChargeLog;
// Charge is for callers outside the engine. It waits at most 4×RedisTimeout.
func (q *Quotas) Charge(ctx context.Context, c realtime.Caller, tokens int64) {
	if c.KeyID <= 0 || tokens <= 0 || len(q.windows(c, q.now())) == 0 {
		return
	}
	id := c.KeyID
	q.chargeRows(ctx, []store.RequestLogRow{{KeyID: &id, UpstreamIn: int(tokens), CreatedAt: q.now()}})
}

// read returns the usage of each window.
func (q *Quotas) read(ctx context.Context, ws []window, now time.Time) []int64 {
	used := make([]int64, len(ws))
	if q.useRedis() {
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
				q.local.mirror(ws[i].key, used[i], ws[i].end, now)
				used[i] = q.local.get(ws[i].key, now) // with what Redis is still owed
			}
			return used
		}
		q.redisFailed(ctx, err)
	}
	for i, w := range ws {
		used[i] = q.local.get(w.key, now)
	}
	return used
}

// useRedis reports whether the counters are Redis's now (configured, breaker closed).
func (q *Quotas) useRedis() bool { return q.rdb != nil && q.br.Allow() }

// redisFailed reports a failed Redis operation of a caller under ctx: a connection
// failure opens the breaker; another error (a script's) is logged, and this one
// operation is counted locally.
func (q *Quotas) redisFailed(ctx context.Context, err error) {
	if !q.br.Fail(ctx, err) && ctx.Err() == nil {
		q.log.Warn("quotas: redis operation failed, counted locally", slog.String("error", err.Error()))
	}
}
