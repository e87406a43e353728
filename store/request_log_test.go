package store

import (
	"context"
	"testing"
	"time"
)

func TestRequestLog(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		clk := newClock()
		db.now = clk.Now
		rl := db.RequestLog()
		base := clk.Now().Truncate(time.Minute)
		key := int64(7)
		var rows []RequestLogRow
		for i := range 400 { // more than one INSERT statement
			adapter := "autocomplete"
			if i%3 == 0 {
				adapter = "prompt"
			}
			rows = append(rows, RequestLogRow{CreatedAt: base.Add(time.Duration(i) * time.Second), RequestID: "r",
				KeyID: &key, Route: "/ws", Kind: "completion", Adapter: adapter, TokensIn: 10, TokensOut: 5,
				TTFTMs: float64(i % 100), LatencyMs: float64(i%100 + 1), Cached: i%10 == 0, Status: 200})
		}
		rows = append(rows, RequestLogRow{CreatedAt: base.Add(-time.Hour), Adapter: "prompt", Status: 500, ErrorCode: "E5001"})
		mustNoErr(t, rl.InsertBatch(ctx, rows))
		mustNoErr(t, rl.InsertBatch(ctx, nil))

		n, err := rl.Count(ctx, base)
		mustNoErr(t, err)
		if n != 400 {
			t.Fatalf("Count = %d", n)
		}
		got, err := rl.Since(ctx, base.Add(-2*time.Hour), "prompt", 2)
		mustNoErr(t, err)
		if len(got) != 2 || got[0].ErrorCode != "E5001" || got[1].KeyID == nil || *got[1].KeyID != 7 ||
			!got[1].CreatedAt.Equal(base) || !got[1].Cached {
			t.Fatalf("Since = %+v", got)
		}
		sum, err := rl.Summary(ctx, base, "")
		mustNoErr(t, err)
		tot := sum.Total
		if tot.Requests != 400 || tot.CacheHits != 40 || tot.TokensIn != 4000 || tot.TokensOut != 2000 || tot.Errors != 0 {
			t.Fatalf("Total = %+v", tot)
		}
		if tot.P50LatencyMs != 50 || tot.P99LatencyMs != 99 || tot.AvgLatencyMs != 50.5 || tot.P50TTFTMs != 50 || tot.P99TTFTMs != 99 {
			t.Fatalf("latency stats = %+v", tot)
		}
		if len(sum.ByAdapter) != 2 || sum.ByAdapter[0].Adapter != "autocomplete" || sum.ByAdapter[1].Requests != 134 {
			t.Fatalf("ByAdapter = %+v", sum.ByAdapter)
		}
		if len(sum.PerMinute) != 7 || sum.PerMinute[0].Count != 60 || sum.PerMinute[6].Count != 40 ||
			!sum.PerMinute[0].Minute.Equal(base) {
			t.Fatalf("PerMinute = %+v", sum.PerMinute)
		}
		only, err := rl.Summary(ctx, base.Add(-2*time.Hour), "prompt")
		mustNoErr(t, err)
		if only.Total.Requests != 135 || only.Total.Errors != 1 || len(only.ByAdapter) != 1 {
			t.Fatalf("prompt summary = %+v", only.Total)
		}
		pruned, err := rl.DeleteOlderThan(ctx, base)
		mustNoErr(t, err)
		if pruned != 1 {
			t.Fatalf("DeleteOlderThan = %d", pruned)
		}
	})
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		xs   []float64
		p    float64
		want float64
	}{
		{nil, 50, 0}, {[]float64{3}, 99, 3}, {[]float64{4, 1, 3, 2}, 50, 2}, {[]float64{4, 1, 3, 2}, 99, 4},
	}
	for _, tt := range tests {
		if got := Percentile(tt.xs, tt.p); got != tt.want {
			t.Errorf("Percentile(%v, %v) = %v, want %v", tt.xs, tt.p, got, tt.want)
		}
	}
}

// BenchmarkRequestLogInsertBatch writes batches of 256 rows (the engine's batch) to a
// SQLite file; ns/op / 256 is the cost of one request's row.
func BenchmarkRequestLogInsertBatch(b *testing.B) {
	db, err := Open(context.Background(), "sqlite:///"+b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	rl := db.RequestLog()
	key, user := int64(1), int64(1)
	rows := make([]RequestLogRow, 256)
	for i := range rows {
		rows[i] = RequestLogRow{CreatedAt: time.Now(), RequestID: "req_c3c1ad5db68fac81", KeyID: &key, UserID: &user,
			Route: "POST /api/v1/code/generate", Kind: "generation", Adapter: "prompt", TokensIn: 120, TokensOut: 16,
			TTFTMs: 0.4, LatencyMs: 0.9, Status: 200}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := rl.InsertBatch(context.Background(), rows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(rows)), "µs/row")
}

// BenchmarkRequestLogInsertMixed is BenchmarkRequestLogInsertBatch with the variety of
// real traffic inside one batch: 40 keys of 20 users, 4 adapters and 5 routes within
// one hour, so the usage rollups (usage_rollup.go) upsert many rows per batch.
func BenchmarkRequestLogInsertMixed(b *testing.B) {
	db, err := Open(context.Background(), "sqlite:///"+b.TempDir()+"/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	rl := db.RequestLog()
	adapters := []string{"completion", "prompt", "explain", "test"}
	routes := []string{"WS completion", "POST /api/v1/code/complete", "POST /api/v1/code/generate", "POST /v1/chat/completions", "WS generation"}
	rows := make([]RequestLogRow, 256)
	now := time.Now()
	for i := range rows {
		key, user := int64(i%40+1), int64(i%20+1)
		rows[i] = RequestLogRow{CreatedAt: now, RequestID: "req_c3c1ad5db68fac81", KeyID: &key, UserID: &user,
			Route: routes[i%5], Kind: "generation", Adapter: adapters[i%4], TokensIn: 120, TokensOut: 16,
			TTFTMs: float64(20 + i), LatencyMs: float64(100 + 7*i), Status: 200, Cached: i%3 == 0}
	}
	b.ReportAllocs()
	for b.Loop() {
		if err := rl.InsertBatch(context.Background(), rows); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Microseconds())/float64(b.N*len(rows)), "µs/row")
}
