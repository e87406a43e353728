package limits

import (
	"context"
	"log/slog"
	"time"

	"github.com/redis/go-redis/v9"
)

// flushScript adds what a replica counted while Redis was unavailable to one window:
// ARGV[1] tokens (negative: refunds, applied only to a counter that exists), keeping
// the counter ARGV[2] milliseconds.
var flushScript = redis.NewScript(`
local n = tonumber(ARGV[1])
if n > 0 then
  redis.call('INCRBY', KEYS[1], n)
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
elseif redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('INCRBY', KEYS[1], n)
end
return 1
`)

// flushPending adds to Redis the usage this replica counted while Redis was
// unavailable (the breaker calls it when Redis answers again). What Redis does not
// take stays owed for the next recovery. A reply lost after Redis applied it would be
// added again at the next one: the error is on the side of charging, never of losing.
func (q *Quotas) flushPending(ctx context.Context) {
	now := q.now()
	owedNow := q.local.takePending(now)
	if len(owedNow) == 0 {
		return
	}
	rctx, cancel := context.WithTimeout(ctx, 4*q.cfg.RedisTimeout+time.Duration(len(owedNow))*time.Millisecond)
	defer cancel()
	cmds, err := q.rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
		for _, o := range owedNow {
			flushScript.Eval(rctx, p, []string{o.key}, o.n, (max(o.end.Sub(now), 0) + time.Minute).Milliseconds())
		}
		return nil
	})
	var left []owed
	for i, c := range cmds {
		if c.Err() != nil && i < len(owedNow) {
			left = append(left, owedNow[i])
		}
	}
	if err != nil && len(cmds) == 0 {
		left = owedNow
	}
	if len(left) > 0 {
		q.local.givePending(left)
		q.redisFailed(ctx, err)
		q.log.Warn("quotas: usage counted during the Redis outage not yet added to Redis; retried at its next recovery",
			slog.Int("windows", len(left)), slog.Any("error", err))
		return
	}
	var tokens int64
	for _, o := range owedNow {
		tokens += o.n
	}
	q.log.Info("quotas: usage counted during the Redis outage added to Redis", slog.Int("windows", len(owedNow)), slog.Int64("tokens", tokens))
}
