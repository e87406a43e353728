package limits

import (
	"context"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// chargingLog is a LogStore that charges each written row's upstream tokens to its
// key's quota windows once the row is stored — the rows of keys without a quota: a
// key with one was charged through its reservation when the request ended
// (QuotaSettled). Charging after the write means a batch that is retried is charged
// once, and while the database is down that usage is not charged.
type chargingLog struct {
	inner realtime.LogStore
	q     *Quotas
}

// ChargeLog wraps the engine's request log so that every finished request's upstream
// tokens (prompt + completion, as vLLM reported them; none for cache hits) are
// counted for its API key: EngineDeps.Log = quotas.ChargeLog(db.RequestLog()). Keys
// without a quota are counted too (one pipelined Redis call per batch), so a quota set
// later applies to usage already counted in the window.
func (q *Quotas) ChargeLog(inner realtime.LogStore) realtime.LogStore {
	return &chargingLog{inner: inner, q: q}
}

// InsertRetry writes rows that may be stored already (realtime's retry path): with a
// store that can tell (store.RequestLog.InsertMissing), only the rows it writes now
// are charged.
func (l *chargingLog) InsertRetry(ctx context.Context, rows []store.RequestLogRow) error {
	m, ok := l.inner.(interface {
		InsertMissing(ctx context.Context, rows []store.RequestLogRow) ([]store.RequestLogRow, error)
	})
	if !ok {
		return l.InsertBatch(ctx, rows)
	}
	written, err := m.InsertMissing(ctx, rows)
	if err != nil {
		return err
	}
	l.q.chargeRows(ctx, written)
	return nil
}

func (l *chargingLog) InsertBatch(ctx context.Context, rows []store.RequestLogRow) error {
	if err := l.inner.InsertBatch(ctx, rows); err != nil {
		return err
	}
	l.q.chargeRows(ctx, rows)
	return nil
}

// chargeRows adds the rows' tokens to both windows of their keys, at the rows' times.
func (q *Quotas) chargeRows(ctx context.Context, rows []store.RequestLogRow) {
	now := q.now()
	type add struct {
		w window
		n int64
	}
	sums := map[string]add{}
	for _, r := range rows {
		n := int64(r.UpstreamIn + r.UpstreamOut)
		if r.KeyID == nil || *r.KeyID <= 0 || n <= 0 || r.QuotaSettled {
			continue
		}
		at := r.CreatedAt
		if at.IsZero() {
			at = now
		}
		all := realtime.Caller{KeyID: *r.KeyID, Quota: realtime.Quota{TokensPerMinute: 1, TokensPerDay: 1}}
		for _, w := range q.windows(all, at) {
			a := sums[w.key]
			a.w, a.n = w, a.n+n
			sums[w.key] = a
		}
	}
	if len(sums) == 0 {
		return
	}
	if q.useRedis() {
		rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 4*q.cfg.RedisTimeout)
		defer cancel()
		_, err := q.rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
			for k, a := range sums {
				p.IncrBy(rctx, k, a.n)
				p.Expire(rctx, k, max(a.w.end.Sub(now), 0)+time.Minute)
			}
			return nil
		})
		if err == nil {
			return
		}
		q.redisFailed(context.WithoutCancel(ctx), err)
	}
	for k, a := range sums {
		q.local.add(k, a.n, a.w.end, now, q.rdb != nil)
	}
}

// usage returns the tokens counted for key id in its current minute and day windows
// (for tests and the admin console).
func (q *Quotas) usage(ctx context.Context, keyID int64) (minute, day int64) {
	ws := q.windows(realtime.Caller{KeyID: keyID, Quota: realtime.Quota{TokensPerMinute: 1, TokensPerDay: 1}}, q.now())
	u := q.read(ctx, ws, q.now())
	return u[0], u[1]
}
