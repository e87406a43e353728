package store

import (
	"context"
	"io/fs"
	"math"
	"math/rand/v2"
	"strings"
	"testing"
	"testing/fstest"
	"time"
)

// usageRows makes n request-log rows over the 72 hours before end: 6 keys of 4 users
// (and JWT rows without a key), 3 adapters, 3 routes, failures, cancels, cache hits
// and log-normal latencies.
func usageRows(n int, end time.Time, seed uint64) []RequestLogRow {
	rng := rand.New(rand.NewPCG(seed, 7))
	adapters := []string{"prompt", "completion", "explain"}
	routes := []string{"POST /api/v1/code/generate", "WS completion", "POST /v1/completions"}
	rows := make([]RequestLogRow, n)
	for i := range rows {
		k := int64(rng.IntN(7)) // 0: a JWT, no key
		u := k%4 + 1
		r := RequestLogRow{CreatedAt: end.Add(-time.Duration(rng.Int64N(int64(72 * time.Hour)))),
			Adapter: adapters[rng.IntN(3)], Route: routes[rng.IntN(3)], Status: 200,
			TokensIn: 50 + rng.IntN(200), TokensOut: rng.IntN(300),
			LatencyMs: math.Exp(rng.NormFloat64()*0.8 + 6), TTFTMs: math.Exp(rng.NormFloat64()*0.5 + 4)}
		r.UpstreamIn, r.UpstreamOut = r.TokensIn, r.TokensOut
		if k != 0 {
			r.KeyID = &k
		}
		r.UserID = &u
		switch x := rng.IntN(20); {
		case x == 0:
			r.Status, r.ErrorCode = 504, "E5001"
		case x == 1:
			r.Status, r.ErrorCode = 400, "E4008"
		case x == 2:
			r.Status = 499
		case x < 8:
			r.Cached, r.UpstreamIn, r.UpstreamOut, r.LatencyMs, r.TTFTMs = true, 0, 0, 0.3, 0.2
		case x == 8:
			r.Coalesced, r.UpstreamIn, r.UpstreamOut = true, 0, 0
		case x == 9:
			r.TTFTMs = 0 // failed before its first token
		}
		rows[i] = r
	}
	return rows
}

// rawUsage sums rows the way the rollup should.
func rawUsage(rows []RequestLogRow, keep func(RequestLogRow) bool) (UsageStats, []float64, []float64) {
	var u UsageStats
	var lat, ttft []float64
	for _, r := range rows {
		if !keep(r) {
			continue
		}
		var a usageAgg
		a.add(r)
		u.Add(a.stats())
		if !r.Cached && !r.Cancelled() {
			lat = append(lat, r.LatencyMs)
			if r.TTFTMs > 0 {
				ttft = append(ttft, r.TTFTMs)
			}
		}
	}
	return u, lat, ttft
}

func (a usageAgg) stats() UsageStats {
	vals := make([]any, 0, 17+2*HistBuckets)
	for _, v := range a.m {
		vals = append(vals, v)
	}
	for _, h := range a.hist {
		vals = append(vals, h)
	}
	return scanStats(vals, 0, true)
}

func insertInBatches(t *testing.T, db *DB, rows []RequestLogRow) {
	t.Helper()
	for start := 0; start < len(rows); start += 300 { // batches share hours: upserts add up
		mustNoErr(t, db.RequestLog().InsertBatch(context.Background(), rows[start:min(start+300, len(rows))]))
	}
}

func sameCounts(t *testing.T, what string, got, want UsageStats) {
	t.Helper()
	g, w := got, want
	g.LatencySum, g.TTFTSum, g.CacheLatencySum = 0, 0, 0
	w.LatencySum, w.TTFTSum, w.CacheLatencySum = 0, 0, 0
	if g != w {
		t.Fatalf("%s:\n got %+v\nwant %+v", what, g, w)
	}
	for _, p := range [][2]float64{{got.LatencySum, want.LatencySum}, {got.TTFTSum, want.TTFTSum}} {
		if math.Abs(p[0]-p[1]) > 1e-6*math.Max(1, p[1]) {
			t.Fatalf("%s: sums %v, want %v", what, p[0], p[1])
		}
	}
}

func TestUsageRollupMatchesRequestLog(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		end := time.Date(2026, 5, 4, 12, 30, 0, 0, time.UTC)
		rows := usageRows(4000, end, 1)
		insertInBatches(t, db, rows)
		q := UsageQuery{Since: end.Add(-72 * time.Hour), Until: end, Step: time.Hour}
		all := func(RequestLogRow) bool { return true }

		total, series, err := db.Usage().Series(ctx, q)
		mustNoErr(t, err)
		want, lat, ttft := rawUsage(rows, all)
		sameCounts(t, "all", total, want)
		if len(series) != 73 || !series[0].Start.Equal(time.Date(2026, 5, 1, 12, 0, 0, 0, time.UTC)) {
			t.Fatalf("%d buckets from %v", len(series), series[0].Start)
		}
		// One step's rows are the rows of that hour.
		h := series[40]
		hw, _, _ := rawUsage(rows, func(r RequestLogRow) bool { return r.CreatedAt.Truncate(time.Hour).Equal(h.Start) })
		sameCounts(t, "one hour", h.UsageStats, hw)
		// Percentiles from the buckets are within the bucket of the exact value.
		for _, p := range []float64{50, 90, 99} {
			for name, c := range map[string]struct {
				est   float64
				exact []float64
			}{"latency": {total.LatencyP(p), lat}, "ttft": {total.TTFTP(p), ttft}} {
				exact := Percentile(append([]float64(nil), c.exact...), p)
				if r := c.est / exact; r < 1/math.Sqrt2 || r > math.Sqrt2 {
					t.Errorf("%s p%v: estimate %.1f, exact %.1f", name, p, c.est, exact)
				}
			}
		}
		// Filters: a key, a user (every key of it and its JWT rows), an adapter and route.
		for name, tc := range map[string]struct {
			q    UsageQuery
			keep func(RequestLogRow) bool
		}{
			"key 3":   {UsageQuery{KeyID: 3}, func(r RequestLogRow) bool { return r.KeyID != nil && *r.KeyID == 3 }},
			"user 2":  {UsageQuery{UserID: 2}, func(r RequestLogRow) bool { return *r.UserID == 2 }},
			"adapter": {UsageQuery{Adapter: "explain", Route: "WS completion"}, func(r RequestLogRow) bool { return r.Adapter == "explain" && r.Route == "WS completion" }},
			"key and adapter": {UsageQuery{KeyID: 5, Adapter: "prompt"}, func(r RequestLogRow) bool {
				return r.KeyID != nil && *r.KeyID == 5 && r.Adapter == "prompt"
			}},
		} {
			fq := tc.q
			fq.Since, fq.Until, fq.Step = q.Since, q.Until, 24*time.Hour
			got, days, err := db.Usage().Series(ctx, fq)
			mustNoErr(t, err)
			w, _, _ := rawUsage(rows, tc.keep)
			sameCounts(t, name, got, w)
			if len(days) != 4 {
				t.Fatalf("%s: %d daily buckets", name, len(days))
			}
		}
		// Top keys and users, most requests first.
		top, err := db.Usage().Top(ctx, q, "key", 3)
		mustNoErr(t, err)
		if len(top) != 3 {
			t.Fatalf("top keys %+v", top)
		}
		for _, g := range top {
			w, _, _ := rawUsage(rows, func(r RequestLogRow) bool {
				return (r.KeyID == nil && g.KeyID == 0) || (r.KeyID != nil && *r.KeyID == g.KeyID)
			})
			if g.Requests != w.Requests || g.UpstreamOut != w.UpstreamOut {
				t.Fatalf("key %d: %d requests, want %d", g.KeyID, g.Requests, w.Requests)
			}
		}
		if top[0].Requests < top[1].Requests || top[1].Requests < top[2].Requests {
			t.Fatalf("not sorted: %+v", top)
		}
		// Whole days come from the per-day rollup, with the same answer.
		days := UsageQuery{Since: time.Date(2026, 5, 2, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 5, 4, 0, 0, 0, 0, time.UTC)}
		if !db.Usage().daily(days) {
			t.Fatal("whole days not read from the daily rollup")
		}
		fromDays, err := db.Usage().Top(ctx, days, "user", 0)
		mustNoErr(t, err)
		hours := days
		hours.Until = hours.Until.Add(-time.Second) // not whole days: the hourly rollup
		if db.Usage().daily(hours) {
			t.Fatal("a partial day read from the daily rollup")
		}
		fromHours, err := db.Usage().Top(ctx, hours, "user", 0)
		mustNoErr(t, err)
		if len(fromDays) != 4 || len(fromHours) != 4 {
			t.Fatalf("%d and %d users", len(fromDays), len(fromHours))
		}
		for i := range fromDays {
			w, _, _ := rawUsage(rows, func(r RequestLogRow) bool {
				return *r.UserID == fromDays[i].UserID && !r.CreatedAt.Before(days.Since) && r.CreatedAt.Before(days.Until)
			})
			sameCounts(t, "user by day", fromDays[i].UsageStats, noHist(w))
			if fromHours[i].UserID != fromDays[i].UserID || fromHours[i].Requests != w.Requests {
				t.Fatalf("user %d: %d requests by hour, want %d", fromHours[i].UserID, fromHours[i].Requests, w.Requests)
			}
		}
		byRoute, err := db.Usage().Top(ctx, q, "route", 0)
		mustNoErr(t, err)
		var sum int64
		for _, g := range byRoute {
			sum += g.Requests
			if g.Route == "" || g.LatencyP(50) == 0 {
				t.Fatalf("route group %+v", g)
			}
		}
		if len(byRoute) != 3 || sum != want.Requests {
			t.Fatalf("%d routes, %d requests", len(byRoute), sum)
		}
		vals, err := db.Usage().Values(ctx, "adapter", q.Since)
		mustNoErr(t, err)
		if strings.Join(vals, ",") != "completion,explain,prompt" {
			t.Fatalf("adapters %v", vals)
		}
		// Retention drops whole hours before the cut.
		cut := end.Add(-24 * time.Hour)
		_, err = db.RequestLog().DeleteOlderThan(ctx, cut)
		mustNoErr(t, err)
		after, _, err := db.Usage().Series(ctx, q)
		mustNoErr(t, err)
		w, _, _ := rawUsage(rows, func(r RequestLogRow) bool { return !r.CreatedAt.Before(cut.Truncate(time.Hour)) })
		sameCounts(t, "after retention", after, w)
	})
}

func noHist(u UsageStats) UsageStats {
	u.Hist = [2 * HistBuckets]int64{}
	return u
}

// TestUsageBackfill migrates a database whose request log already has rows: the
// rollups start with them, equal to what InsertBatch would have summed.
func TestUsageBackfill(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			end := time.Date(2026, 5, 4, 12, 30, 0, 0, time.UTC)
			rows := usageRows(1500, end, 2)

			old := b.open(t)
			full := old.migrations
			old.migrations = migrationsBefore(t, full, "0009")
			_, err := old.Migrate(ctx)
			mustNoErr(t, err)
			for _, r := range rows { // the request log as an older version wrote it
				_, err := old.x.ExecContext(ctx, old.x.Rebind(`INSERT INTO request_log (created_at, key_id, user_id, route, adapter,
					tokens_in, tokens_out, upstream_tokens_in, upstream_tokens_out, ttft_ms, latency_ms, cached, coalesced, status, error_code)
					VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`), ts(r.CreatedAt), r.KeyID, r.UserID, r.Route, r.Adapter,
					r.TokensIn, r.TokensOut, r.UpstreamIn, r.UpstreamOut, r.TTFTMs, r.LatencyMs, r.Cached, r.Coalesced, r.Status, r.ErrorCode)
				mustNoErr(t, err)
			}
			old.migrations = full
			_, err = old.Migrate(ctx)
			mustNoErr(t, err)

			fresh := b.open(t)
			_, err = fresh.Migrate(ctx)
			mustNoErr(t, err)
			insertInBatches(t, fresh, rows)
			for _, q := range []UsageQuery{{}, {KeyID: 2}, {UserID: 1}, {Route: "WS completion"}} {
				q.Since, q.Until, q.Step = end.Add(-80*time.Hour), end.Add(time.Hour), time.Hour
				got, gs, err := old.Usage().Series(ctx, q)
				mustNoErr(t, err)
				want, ws, err := fresh.Usage().Series(ctx, q)
				mustNoErr(t, err)
				sameCounts(t, "backfilled", got, want)
				for i := range gs {
					sameCounts(t, "backfilled hour", gs[i].UsageStats, ws[i].UsageStats)
				}
			}
			days := UsageQuery{Since: time.Date(2026, 5, 1, 0, 0, 0, 0, time.UTC), Until: time.Date(2026, 5, 5, 0, 0, 0, 0, time.UTC)}
			got, err := old.Usage().Top(ctx, days, "key", 0)
			mustNoErr(t, err)
			want, err := fresh.Usage().Top(ctx, days, "key", 0)
			mustNoErr(t, err)
			if len(got) != len(want) || len(got) != 7 {
				t.Fatalf("%d keys backfilled, %d written", len(got), len(want))
			}
			for i := range got {
				sameCounts(t, "backfilled day", got[i].UsageStats, want[i].UsageStats)
			}
		})
	}
}

// migrationsBefore is fsys without the migrations numbered prefix or later.
func migrationsBefore(t *testing.T, fsys fs.FS, prefix string) fs.FS {
	t.Helper()
	out := fstest.MapFS{}
	entries, err := fs.ReadDir(fsys, ".")
	mustNoErr(t, err)
	for _, e := range entries {
		if e.Name() < prefix {
			data, err := fs.ReadFile(fsys, e.Name())
			mustNoErr(t, err)
			out[e.Name()] = &fstest.MapFile{Data: data}
		}
	}
	return out
}

func TestHistBuckets(t *testing.T) {
	for _, tc := range []struct {
		ms   float64
		want int
	}{{0, 0}, {0.99, 0}, {1, 1}, {1.41, 1}, {1.42, 2}, {2, 3}, {100, 14}, {131071, 34}, {131072, 35}, {1e9, 35}, {math.NaN(), 0}, {-1, 0}} {
		if got := histBucket(tc.ms); got != tc.want {
			t.Errorf("histBucket(%v) = %d, want %d", tc.ms, got, tc.want)
		}
		lo, hi := histBounds(tc.want)
		if tc.ms >= 0 && (tc.ms < lo || tc.ms >= hi) && !(tc.want == 0 && tc.ms < 1) {
			t.Errorf("%v outside [%v, %v) of bucket %d", tc.ms, lo, hi, tc.want)
		}
	}
	var u UsageStats
	if u.LatencyP(50) != 0 {
		t.Fatal("percentile of nothing")
	}
}
