package store

import (
	"context"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// UsageQuery selects usage from the hourly rollups: the hours in [Since, Until)
// (both truncated to the hour), in steps of Step (a whole number of hours; 0 = one
// hour), of one key, user, adapter and route when set.
type UsageQuery struct {
	Since, Until time.Time
	Step         time.Duration
	KeyID        int64
	UserID       int64
	Adapter      string
	Route        string
}

// UsagePeriods are the ranges UsagePeriod knows.
var UsagePeriods = []string{"24h", "7d", "30d"}

// UsagePeriod is the query of a named range at now: "24h" is the last 24 hours by
// hour (from the start of the hour 23 hours ago), "7d" and "30d" the last 7 or 30 UTC
// days by day, today so far included. step "hour" or "day" replaces the default step;
// "" keeps it. ok is false for any other period or step.
func UsagePeriod(period, step string, now time.Time) (q UsageQuery, ok bool) {
	now = now.UTC()
	q.Until = now
	switch period {
	case "24h":
		q.Since, q.Step = now.Truncate(time.Hour).Add(-23*time.Hour), time.Hour
	case "7d", "30d":
		days := map[string]int{"7d": 7, "30d": 30}[period]
		q.Since, q.Step = now.Truncate(24*time.Hour).AddDate(0, 0, 1-days), 24*time.Hour
	default:
		return q, false
	}
	switch step {
	case "":
	case "hour":
		q.Step = time.Hour
	case "day":
		q.Step = 24 * time.Hour
	default:
		return q, false
	}
	return q, true
}

// UsageStats sums usage. Requests are every request-log row; Served are those vLLM
// served (not cached, not cancelled), which the latency and TTFT figures describe;
// cache hits are apart (CacheHits, CacheTokens*, CacheLatencySum). Tokens* are
// delivered to callers, Upstream* charged as model tokens (docs/operations.md, "Token
// accounting").
type UsageStats struct {
	Requests, Errors, ClientErrors, Cancelled, CacheHits, Coalesced int64
	TokensIn, TokensOut, UpstreamIn, UpstreamOut                    int64
	CacheTokensIn, CacheTokensOut                                   int64
	Served, TTFTN                                                   int64
	LatencySum, TTFTSum, CacheLatencySum                            float64
	Hist                                                            [2 * HistBuckets]int64 // latency buckets, then TTFT buckets
}

// ServerErrors are the failed requests that are not client errors.
func (u UsageStats) ServerErrors() int64 { return u.Errors - u.ClientErrors }

// Add sums b into u.
func (u *UsageStats) Add(b UsageStats) {
	u.Requests += b.Requests
	u.Errors += b.Errors
	u.ClientErrors += b.ClientErrors
	u.Cancelled += b.Cancelled
	u.CacheHits += b.CacheHits
	u.Coalesced += b.Coalesced
	u.TokensIn += b.TokensIn
	u.TokensOut += b.TokensOut
	u.UpstreamIn += b.UpstreamIn
	u.UpstreamOut += b.UpstreamOut
	u.CacheTokensIn += b.CacheTokensIn
	u.CacheTokensOut += b.CacheTokensOut
	u.Served += b.Served
	u.TTFTN += b.TTFTN
	u.LatencySum += b.LatencySum
	u.TTFTSum += b.TTFTSum
	u.CacheLatencySum += b.CacheLatencySum
	for i := range u.Hist {
		u.Hist[i] += b.Hist[i]
	}
}

// LatencyP is the p-th percentile (0 < p ≤ 100) of the served requests' latency in ms,
// estimated from the buckets: the rank's bucket, interpolated geometrically inside it
// (the true value is in the same √2-wide bucket). 0 without served requests.
func (u UsageStats) LatencyP(p float64) float64 { return histPercentile(u.Hist[:HistBuckets], p) }

// TTFTP is LatencyP for the time to first token (served requests that had one).
func (u UsageStats) TTFTP(p float64) float64 { return histPercentile(u.Hist[HistBuckets:], p) }

// AvgLatency is the served requests' mean latency in ms; CacheAvgLatency the cache
// hits'; AvgTTFT the mean time to first token.
func (u UsageStats) AvgLatency() float64      { return ratioOf(u.LatencySum, u.Served) }
func (u UsageStats) CacheAvgLatency() float64 { return ratioOf(u.CacheLatencySum, u.CacheHits) }
func (u UsageStats) AvgTTFT() float64         { return ratioOf(u.TTFTSum, u.TTFTN) }

func ratioOf(sum float64, n int64) float64 {
	if n == 0 {
		return 0
	}
	return sum / float64(n)
}

func histPercentile(h []int64, p float64) float64 {
	var n int64
	for _, c := range h {
		n += c
	}
	if n == 0 {
		return 0
	}
	rank := int64(math.Ceil(p / 100 * float64(n)))
	rank = min(max(rank, 1), n)
	var cum int64
	for i, c := range h {
		if cum+c < rank {
			cum += c
			continue
		}
		lo, hi := histBounds(i)
		f := (float64(rank-cum) - 0.5) / float64(c) // the rank's position inside the bucket
		switch {
		case math.IsInf(hi, 1):
			return lo
		case lo == 0:
			return hi * f
		}
		return lo * math.Pow(hi/lo, f)
	}
	return 0
}

// UsageBucket is the usage of one step starting at Start.
type UsageBucket struct {
	Start time.Time
	UsageStats
}

// UsageGroup is the usage of one key, user, adapter or route.
type UsageGroup struct {
	KeyID   int64
	UserID  int64
	Adapter string
	Route   string
	UsageStats
}

// Usage reads the usage rollups.
type Usage struct{ db *DB }

// Usage returns the usage-rollup reader.
func (db *DB) Usage() *Usage { return &Usage{db: db} }

// bounds returns the query's first hour, its end hour (exclusive) and its step in hours.
func (q UsageQuery) bounds() (int64, int64, int64) {
	step := int64(q.Step / time.Hour)
	if step <= 0 {
		step = 1
	}
	return q.Since.Unix() / 3600, (q.Until.Unix() + 3599) / 3600, step
}

// from picks the rollup — per key and user when the query names one or perKey asks
// for it, else the whole traffic's (far fewer rows) — and the WHERE clause.
func (q UsageQuery) from(perKey bool) (string, []any) {
	first, end, _ := q.bounds()
	table := "usage_hourly"
	if perKey || q.KeyID != 0 || q.UserID != 0 {
		table = "usage_hourly_keys"
	}
	w, args := []string{`hour >= ?`, `hour < ?`}, []any{first, end}
	if q.KeyID != 0 {
		w, args = append(w, `key_id = ?`), append(args, q.KeyID)
	}
	if q.UserID != 0 {
		w, args = append(w, `user_id = ?`), append(args, q.UserID)
	}
	if q.Adapter != "" {
		w, args = append(w, `adapter = ?`), append(args, q.Adapter)
	}
	if q.Route != "" {
		w, args = append(w, `route = ?`), append(args, q.Route)
	}
	return ` FROM ` + table + ` WHERE ` + strings.Join(w, ` AND `), args
}

// daily reports whether the per-day rollup answers q exactly: no adapter or route
// filter, and whole UTC days — from midnight to midnight, or to now (today's row holds
// today so far).
func (s *Usage) daily(q UsageQuery) bool {
	const day = 24 * time.Hour
	return q.Adapter == "" && q.Route == "" && q.Since.Equal(q.Since.Truncate(day)) &&
		(q.Until.Equal(q.Until.Truncate(day)) || !q.Until.Before(s.db.now().Add(-time.Minute)))
}

// fromDays is from on the per-day rollup.
func (q UsageQuery) fromDays() (string, []any) {
	w := []string{`day >= ?`, `day < ?`}
	args := []any{floorDiv(q.Since.Unix(), 86400), floorDiv(q.Until.Unix()+86399, 86400)}
	if q.KeyID != 0 {
		w, args = append(w, `key_id = ?`), append(args, q.KeyID)
	}
	if q.UserID != 0 {
		w, args = append(w, `user_id = ?`), append(args, q.UserID)
	}
	return ` FROM usage_daily_keys WHERE ` + strings.Join(w, ` AND `), args
}

// sums is the SELECT list of every measure (and, with hist, every bucket) summed.
func sums(hist bool) string {
	cols := usageMeasures
	if hist {
		cols = append(append([]string{}, usageMeasures...), histColumns...)
	}
	parts := make([]string, len(cols))
	for i, c := range cols {
		parts[i] = `COALESCE(SUM(` + c + `), 0)`
	}
	return strings.Join(parts, `, `)
}

// scanStats reads the measures (and buckets) of one result row after the first skip
// columns into dest.
func scanStats(vals []any, skip int, hist bool) UsageStats {
	var u UsageStats
	num := numeric
	m := vals[skip:]
	i64 := func(i int) int64 { return int64(math.Round(num(m[i]))) }
	u.Requests, u.Errors, u.ClientErrors, u.Cancelled, u.CacheHits, u.Coalesced = i64(0), i64(1), i64(2), i64(3), i64(4), i64(5)
	u.TokensIn, u.TokensOut, u.UpstreamIn, u.UpstreamOut = i64(6), i64(7), i64(8), i64(9)
	u.CacheTokensIn, u.CacheTokensOut, u.Served = i64(10), i64(11), i64(12)
	u.LatencySum, u.TTFTN, u.TTFTSum, u.CacheLatencySum = num(m[13]), i64(14), num(m[15]), num(m[16])
	if hist {
		for j := range u.Hist {
			u.Hist[j] = i64(len(usageMeasures) + j)
		}
	}
	return u
}

// numeric reads a number the driver returned as an integer, a float or text (SQLite's
// SUM of an empty set, PostgreSQL's NUMERIC sums).
func numeric(v any) float64 {
	switch x := v.(type) {
	case int64:
		return float64(x)
	case float64:
		return x
	case []byte:
		f, _ := strconv.ParseFloat(string(x), 64)
		return f
	case string:
		f, _ := strconv.ParseFloat(x, 64)
		return f
	}
	return 0
}

// query runs q and scans each row: skip leading columns, then the sums.
func (s *Usage) query(ctx context.Context, q string, args []any, skip int, hist bool, each func(lead []any, u UsageStats)) error {
	rows, err := s.db.x.QueryxContext(ctx, s.db.x.Rebind(q), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		vals, err := rows.SliceScan()
		if err != nil {
			return err
		}
		each(vals[:skip], scanStats(vals, skip, hist))
	}
	return rows.Err()
}

// Series returns the usage of every step of q, oldest first (empty steps included),
// and their sum: one query, summed by the database.
func (s *Usage) Series(ctx context.Context, q UsageQuery) (UsageStats, []UsageBucket, error) {
	first, end, step := q.bounds()
	n := max(int((end-first+step-1)/step), 1)
	out := make([]UsageBucket, n)
	for i := range out {
		out[i].Start = time.Unix((first+int64(i)*step)*3600, 0).UTC()
	}
	from, args := q.from(false)
	sql := `SELECT (hour - ?) / ? AS b, ` + sums(true) + from + ` GROUP BY 1`
	args = append([]any{first, step}, args...)
	var total UsageStats
	err := s.query(ctx, sql, args, 1, true, func(lead []any, u UsageStats) {
		if b := int(numeric(lead[0])); b >= 0 && b < n {
			out[b].UsageStats = u
		}
		total.Add(u)
	})
	return total, out, wrap("usage series", err)
}

// Top returns the usage of q grouped by "key", "user", "adapter" or "route", most
// requests first, at most limit (≤ 0: all). Groups by adapter and route carry their
// latency buckets; by key and user only the sums, read from the per-day rollup when
// the range is whole days (a month is a few thousand rows there).
func (s *Usage) Top(ctx context.Context, q UsageQuery, by string, limit int) ([]UsageGroup, error) {
	col := map[string]string{"key": "key_id", "user": "user_id", "adapter": "adapter", "route": "route"}[by]
	if col == "" {
		return nil, fmt.Errorf("store: usage top: unknown grouping %q", by)
	}
	from, args := q.from(by == "key" || by == "user")
	if (by == "key" || by == "user") && s.daily(q) {
		from, args = q.fromDays()
	}
	hist := by == "adapter" || by == "route"
	sql := `SELECT ` + col + `, ` + sums(hist) + from + ` GROUP BY ` + col + ` ORDER BY 2 DESC, 1`
	if limit > 0 {
		sql += fmt.Sprintf(` LIMIT %d`, limit)
	}
	out := []UsageGroup{}
	err := s.query(ctx, sql, args, 1, hist, func(lead []any, u UsageStats) {
		g := UsageGroup{UsageStats: u}
		switch v := lead[0].(type) {
		case int64:
			if by == "key" {
				g.KeyID = v
			} else {
				g.UserID = v
			}
		case []byte:
			if by == "adapter" {
				g.Adapter = string(v)
			} else {
				g.Route = string(v)
			}
		case string:
			if by == "adapter" {
				g.Adapter = v
			} else {
				g.Route = v
			}
		}
		out = append(out, g)
	})
	return out, wrap("usage top "+by, err)
}

// Values returns the distinct adapters or routes ("adapter" or "route") seen since a
// time, sorted (the usage page's filters).
func (s *Usage) Values(ctx context.Context, col string, since time.Time) ([]string, error) {
	if col != "adapter" && col != "route" {
		return nil, fmt.Errorf("store: usage values: unknown column %q", col)
	}
	out := []string{}
	q := s.db.x.Rebind(`SELECT DISTINCT ` + col + ` FROM usage_hourly WHERE hour >= ? ORDER BY 1`)
	return out, wrap("usage values", s.db.x.SelectContext(ctx, &out, q, since.Unix()/3600))
}
