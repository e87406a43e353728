package limits

import (
	"context"
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
)

func TestQuotas(t *testing.T) {
	run := func(t *testing.T, q *Quotas) {
		ctx := context.Background()
		now := time.Date(2026, 5, 6, 10, 20, 30, 0, time.UTC)
		q.now = func() time.Time { return now }
		l, err := NewLimiter(Config{}, Deps{Quotas: q})
		if err != nil {
			t.Fatal(err)
		}
		c := realtime.Caller{KeyID: 7, Quota: realtime.Quota{TokensPerMinute: 100, TokensPerDay: 250}}

		if e := l.Admit(ctx, c, GroupStream); e != nil {
			t.Fatalf("fresh key refused: %v", e)
		}
		q.Charge(ctx, c, 60)
		if e := l.Admit(ctx, c, GroupStream); e != nil {
			t.Fatalf("refused at 60/100: %v", e)
		}
		// The admitted stream ends far over the quota: it was never cut (Charge only
		// counts), but the next request is refused until the minute ends.
		q.Charge(ctx, c, 90)
		e := l.Admit(ctx, c, GroupGeneration)
		if e == nil || e.Code != realtime.CodeQuotaExceeded || e.RetryAfter != 30*time.Second {
			t.Fatalf("over quota: %+v, want E4016 retry after 30s", e)
		}
		if e := l.Admit(ctx, c, GroupOps); e != nil {
			t.Errorf("ops requests are not token-consuming, refused: %v", e)
		}
		if e := l.Admit(ctx, realtime.Caller{KeyID: 8, Quota: c.Quota}, GroupStream); e != nil {
			t.Errorf("other key refused: %v", e)
		}
		if e := l.Admit(ctx, realtime.Caller{KeyID: 7}, GroupStream); e != nil {
			t.Errorf("the same key without quota refused: %v", e)
		}
		now = now.Add(time.Minute) // next minute: 150 used today
		if e := l.Admit(ctx, c, GroupStream); e != nil {
			t.Fatalf("new minute refused: %v", e)
		}
		q.Charge(ctx, c, 99) // 249 of 250 today
		if e := l.Admit(ctx, c, GroupStream); e != nil {
			t.Fatalf("249/250 refused: %v", e)
		}
		q.Charge(ctx, c, 1)
		e = l.Admit(ctx, c, GroupStream)
		if e == nil || e.Code != realtime.CodeQuotaExceeded || e.RetryAfter != 13*time.Hour+38*time.Minute+30*time.Second {
			t.Fatalf("day quota used up: %+v, want E4016 retry at midnight UTC", e)
		}
	}
	t.Run("memory", func(t *testing.T) { run(t, NewQuotas(QuotaConfig{}, nil, nil)) })
	t.Run("redis", func(t *testing.T) {
		rdb, prefix := storetest.Redis(t)
		run(t, NewQuotas(QuotaConfig{Prefix: prefix + "q"}, rdb, nil))
	})
}

func TestChargeLog(t *testing.T) {
	db := storetest.OpenMigrated(t, "sqlite://:memory:")
	q := NewQuotas(QuotaConfig{}, nil, nil)
	log := q.ChargeLog(db.RequestLog())
	key := int64(11)
	rows := []store.RequestLogRow{{KeyID: &key, TokensIn: 30, TokensOut: 50}, {KeyID: &key, TokensIn: 5}, {TokensIn: 99}}
	if err := log.InsertBatch(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
	if m, d := q.usage(context.Background(), key); m != 85 || d != 85 {
		t.Fatalf("usage minute %d day %d, want 85", m, d)
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
