package store

import (
	"context"
	"testing"
	"time"
)

func TestUpstreamStatesAndStats(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		s := db.UpstreamStates()
		mustNoErr(t, s.Set(ctx, "http://a:8000", "draining", "ops@example.com"))
		mustNoErr(t, s.Set(ctx, "http://b:8000", "disabled", "ops@example.com"))
		mustNoErr(t, s.Set(ctx, "http://a:8000", "active", "root@example.com"))
		all, err := s.All(ctx)
		mustNoErr(t, err)
		if len(all) != 2 || all["http://a:8000"].State != "active" || all["http://a:8000"].UpdatedBy != "root@example.com" ||
			all["http://b:8000"].State != "disabled" {
			t.Fatalf("states %+v", all)
		}
		if err := s.Set(ctx, "http://c:8000", "paused", "x"); err == nil {
			t.Fatal("a state outside the CHECK was stored")
		}

		now := time.Now().UTC()
		var rows []RequestLogRow
		for i := range 10 {
			rows = append(rows, RequestLogRow{CreatedAt: now.Add(-time.Minute), Upstream: "http://a:8000", Status: 200,
				LatencyMs: float64(10 * (i + 1)), TTFTMs: float64(i + 1)})
		}
		rows = append(rows,
			RequestLogRow{CreatedAt: now.Add(-time.Minute), Upstream: "http://a:8000", Status: 504, ErrorCode: "E5001", LatencyMs: 30000},
			RequestLogRow{CreatedAt: now.Add(-time.Minute), Upstream: "http://a:8000", Status: 499, LatencyMs: 99999},
			RequestLogRow{CreatedAt: now.Add(-time.Minute), Status: 200, Cached: true},
			RequestLogRow{CreatedAt: now.Add(-3 * time.Hour), Upstream: "http://b:8000", Status: 200})
		mustNoErr(t, db.RequestLog().InsertBatch(ctx, rows))
		st, err := db.RequestLog().ByUpstream(ctx, now.Add(-time.Hour))
		mustNoErr(t, err)
		if len(st) != 1 {
			t.Fatalf("stats %+v", st)
		}
		a := st[0]
		// 11 rows not cancelled: latencies 10…100 and 30000; TTFTs 1…10 (the failure had none).
		if a.Requests != 12 || a.Errors != 1 || a.Cancelled != 1 || a.P50LatencyMs != 60 || a.P99LatencyMs != 30000 ||
			a.P50TTFTMs != 5 || a.P99TTFTMs != 10 {
			t.Fatalf("replica a %+v", a)
		}
	})
}
