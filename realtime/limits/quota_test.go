package limits

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
)

func TestQuotas(t *testing.T) {
	t.Run("memory", func(t *testing.T) { checkQuotaWindows(t, NewQuotas(QuotaConfig{}, nil, nil)) })
	t.Run("redis", func(t *testing.T) {
		rdb, prefix := storetest.Redis(t)
		checkQuotaWindows(t, NewQuotas(QuotaConfig{Prefix: prefix + "q"}, rdb, nil))
	})
}

// checkQuotaWindows: a key's minute and day windows fill, refuse with E4016 and the
// time to the window's end, and are the key's own.
func checkQuotaWindows(t *testing.T, q *Quotas) {
	ctx := context.Background()
	now := time.Date(2026, 5, 6, 10, 20, 30, 0, time.UTC)
	q.now = func() time.Time { return now }
	c := realtime.Caller{KeyID: 7, Quota: realtime.Quota{TokensPerMinute: 100, TokensPerDay: 250}}

	if e := q.Check(ctx, c); e != nil {
		t.Fatalf("fresh key refused: %v", e)
	}
	q.Charge(ctx, c, 60)
	if e := q.Check(ctx, c); e != nil {
		t.Fatalf("refused at 60/100: %v", e)
	}
	q.Charge(ctx, c, 90)
	e := q.Check(ctx, c)
	if e == nil || e.Code != realtime.CodeQuotaExceeded || e.RetryAfter != 30*time.Second {
		t.Fatalf("over quota: %+v, want E4016 retry after 30s", e)
	}
	if e := q.Check(ctx, realtime.Caller{KeyID: 8, Quota: c.Quota}); e != nil {
		t.Errorf("other key refused: %v", e)
	}
	if e := q.Check(ctx, realtime.Caller{KeyID: 7}); e != nil {
		t.Errorf("the same key without quota refused: %v", e)
	}
	now = now.Add(time.Minute) // next minute: 150 used today
	if e := q.Check(ctx, c); e != nil {
		t.Fatalf("new minute refused: %v", e)
	}
	q.Charge(ctx, c, 99) // 249 of 250 today
	if e := q.Check(ctx, c); e != nil {
		t.Fatalf("249/250 refused: %v", e)
	}
	q.Charge(ctx, c, 1)
	e = q.Check(ctx, c)
	if e == nil || e.Code != realtime.CodeQuotaExceeded || e.RetryAfter != 13*time.Hour+38*time.Minute+30*time.Second {
		t.Fatalf("day quota used up: %+v, want E4016 retry at midnight UTC", e)
	}
}

// TestQuotaReserve: a reservation takes prompt + max_tokens, or what is left when that
// still covers the prompt and one token (max_tokens lowered), else E4016; settling
// replaces the reservation with the real use.
func TestQuotaReserve(t *testing.T) {
	t.Run("memory", func(t *testing.T) { checkQuotaReserve(t, NewQuotas(QuotaConfig{}, nil, nil)) })
	t.Run("redis", func(t *testing.T) {
		rdb, prefix := storetest.Redis(t)
		checkQuotaReserve(t, NewQuotas(QuotaConfig{Prefix: prefix + "q"}, rdb, nil))
	})
}

func checkQuotaReserve(t *testing.T, q *Quotas) {
	ctx := context.Background()
	now := time.Date(2026, 5, 6, 10, 20, 30, 0, time.UTC)
	q.now = func() time.Time { return now }
	c := realtime.Caller{KeyID: 9, Quota: realtime.Quota{TokensPerMinute: 300, TokensPerDay: 1000}}

	r1, granted, e := q.Reserve(ctx, c, 40, 100)
	if e != nil || granted != 100 || r1 == nil {
		t.Fatalf("first reservation: %v granted %d", e, granted)
	}
	if m, d := q.usage(ctx, c.KeyID); m != 140 || d != 140 {
		t.Fatalf("reserved 140, windows hold %d/%d", m, d)
	}
	r2, granted, e := q.Reserve(ctx, c, 40, 200) // 160 left: max_tokens lowered to 120
	if e != nil || granted != 120 {
		t.Fatalf("second reservation: %v granted %d, want 120", e, granted)
	}
	if _, _, e := q.Reserve(ctx, c, 1, 10); e == nil || e.Code != realtime.CodeQuotaExceeded {
		t.Fatalf("reservation with nothing left: %v", e)
	}
	r1.Settle(ctx, 60) // used 60 of 140: 80 come back
	r1.Settle(ctx, 0)  // once only
	if m, _ := q.usage(ctx, c.KeyID); m != 220 {
		t.Fatalf("after settling 60 of 140: %d, want 220", m)
	}
	r2.Settle(ctx, 200)
	if m, d := q.usage(ctx, c.KeyID); m != 260 || d != 260 {
		t.Fatalf("after settling 200 of 160: %d/%d, want 260", m, d)
	}
	if _, granted, e := q.Reserve(ctx, c, 30, 100); e != nil || granted != 10 {
		t.Fatalf("40 left for a 30-token prompt: %v granted %d, want 10", e, granted)
	}
	if res, granted, e := q.Reserve(ctx, realtime.Caller{KeyID: 9}, 30, 100); res != nil || granted != 100 || e != nil {
		t.Fatalf("a key without quota: %v %d %v", res, granted, e)
	}
}

// TestQuotaReserveConcurrent: concurrent reservations never hand out more than the
// quota, and together they hand out all of it (no tokens lost to races).
func TestQuotaReserveConcurrent(t *testing.T) {
	t.Run("memory", func(t *testing.T) { checkQuotaReserveConcurrent(t, NewQuotas(QuotaConfig{}, nil, nil)) })
	t.Run("redis", func(t *testing.T) {
		rdb, prefix := storetest.Redis(t)
		checkQuotaReserveConcurrent(t, NewQuotas(QuotaConfig{Prefix: prefix + "q"}, rdb, nil))
	})
}

func checkQuotaReserveConcurrent(t *testing.T, q *Quotas) {
	ctx := context.Background()
	c := realtime.Caller{KeyID: 10, Quota: realtime.Quota{TokensPerMinute: 1000}}
	var mu sync.Mutex
	total := 0
	var wg sync.WaitGroup
	for range 60 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if _, granted, e := q.Reserve(ctx, c, 10, 40); e == nil {
				mu.Lock()
				total += 10 + granted
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if m, _ := q.usage(ctx, c.KeyID); total != 1000 || m != 1000 {
		t.Fatalf("granted %d tokens, windows hold %d; want exactly the quota of 1000", total, m)
	}
}

func TestChargeLog(t *testing.T) {
	db := storetest.OpenMigrated(t, "sqlite://:memory:")
	q := NewQuotas(QuotaConfig{}, nil, nil)
	log := q.ChargeLog(db.RequestLog())
	key := int64(11)
	other := int64(12)
	rows := []store.RequestLogRow{{KeyID: &key, UpstreamIn: 30, UpstreamOut: 50, TokensIn: 30, TokensOut: 50},
		{KeyID: &key, UpstreamIn: 5, TokensIn: 5}, {UpstreamIn: 99},
		{KeyID: &key, TokensIn: 1000, Cached: true},                       // a cache hit: no model tokens
		{KeyID: &other, UpstreamIn: 70, TokensIn: 70, QuotaSettled: true}} // charged by its reservation
	if err := log.InsertBatch(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	if m, d := q.usage(context.Background(), key); m != 85 || d != 85 {
		t.Fatalf("usage minute %d day %d, want 85", m, d)
	}
	if m, _ := q.usage(context.Background(), other); m != 0 {
		t.Fatalf("a row settled by its reservation was charged again: %d", m)
	}
	c := realtime.Caller{KeyID: key, Quota: realtime.Quota{TokensPerMinute: 80}}
	if e := q.Check(context.Background(), c); e == nil || e.Code != realtime.CodeQuotaExceeded {
		t.Fatalf("Check after 85/80 = %v", e)
	}
	db.Close() // a failed write charges nothing
	if err := log.InsertBatch(context.Background(), rows); err == nil {
		t.Fatal("insert into a closed database succeeded")
	}
	if m, _ := q.usage(context.Background(), key); m != 85 {
		t.Fatalf("failed batch charged: %d", m)
	}
}
