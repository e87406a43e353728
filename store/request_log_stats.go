package store

import (
	"cmp"
	"context"
	"math"
	"slices"
	"strings"
	"time"
)

// StatusCancelled is the request-log status of a request the client left before its
// end (nginx's "client closed request"). A cancel is neither a success nor an error:
// the figures count it on its own (docs/operations.md, "Operations API").
const StatusCancelled = 499

// The SQL conditions of a request-log row's outcome; Cancelled and Failed are the same
// tests in Go. A failed row is a client error when its code is an E4xxx, or when it
// has no code and a status below 500; any other failed row is a server error.
const (
	sqlCancelled   = `status = 499`
	sqlFailed      = `(status <> 499 AND (status >= 400 OR error_code <> ''))`
	sqlClientError = `(error_code LIKE 'E4%' OR (error_code = '' AND status < 500))`
)

// Cancelled reports whether the client left before the end (status 499).
func (r RequestLogRow) Cancelled() bool { return r.Status == StatusCancelled }

// Failed reports whether the request failed: an error status or an error code, and
// not a cancel.
func (r RequestLogRow) Failed() bool {
	return r.Status != StatusCancelled && (r.Status >= 400 || r.ErrorCode != "")
}

// TrafficStats aggregates request_log rows of one adapter (or all).
type TrafficStats struct {
	Adapter      string  `json:"adapter"`
	Requests     int     `json:"requests"`
	Errors       int     `json:"errors"`    // failed rows (RequestLogRow.Failed): not cancels
	Cancelled    int     `json:"cancelled"` // status 499
	CacheHits    int     `json:"cache_hits"`
	Coalesced    int     `json:"coalesced"`
	TokensIn     int64   `json:"tokens_in"`  // delivered to callers
	TokensOut    int64   `json:"tokens_out"` // delivered to callers
	UpstreamIn   int64   `json:"upstream_tokens_in"`
	UpstreamOut  int64   `json:"upstream_tokens_out"`
	AvgLatencyMs float64 `json:"avg_latency_ms"`
	P50LatencyMs float64 `json:"p50_latency_ms"`
	P99LatencyMs float64 `json:"p99_latency_ms"`
	P50TTFTMs    float64 `json:"p50_ttft_ms"`
	P99TTFTMs    float64 `json:"p99_ttft_ms"`
}

// MinuteCount is the number of requests that started in one UTC minute.
type MinuteCount struct {
	Minute time.Time `json:"minute"`
	Count  int       `json:"count"`
}

// TrafficSummary is the analytics view of a time window.
type TrafficSummary struct {
	Total     TrafficStats   `json:"total"`
	ByAdapter []TrafficStats `json:"by_adapter"` // sorted by adapter
	PerMinute []MinuteCount  `json:"per_minute"` // minutes with traffic, ascending
}

// LogFilter selects request-log rows: created at or after Since and, when set, before
// Until, of one adapter, one user and one key.
type LogFilter struct {
	Since   time.Time
	Until   time.Time // zero: no end
	Adapter string    // "": every adapter
	UserID  int64     // 0: every user
	KeyID   int64     // 0: every key
	// Source keeps only the requests vLLM served ("served": not cache hits, not
	// cancels — the latency users feel from the model) or the cache hits ("cache").
	Source string
}

// where is the filter's WHERE clause (without the keyword) and its arguments.
func (f LogFilter) where() (string, []any) {
	w, args := []string{`created_at >= ?`}, []any{ts(f.Since)}
	if !f.Until.IsZero() {
		w, args = append(w, `created_at < ?`), append(args, ts(f.Until))
	}
	if f.Adapter != "" {
		w, args = append(w, `adapter = ?`), append(args, f.Adapter)
	}
	if f.UserID != 0 {
		w, args = append(w, `user_id = ?`), append(args, f.UserID)
	}
	if f.KeyID != 0 {
		w, args = append(w, `key_id = ?`), append(args, f.KeyID)
	}
	switch f.Source {
	case "served":
		w, args = append(w, `cached = ? AND NOT (`+sqlCancelled+`)`), append(args, false)
	case "cache":
		w, args = append(w, `cached = ?`), append(args, true)
	}
	return strings.Join(w, ` AND `), args
}

// Summary aggregates the rows since a time, optionally of one adapter.
func (s *RequestLog) Summary(ctx context.Context, since time.Time, adapter string) (TrafficSummary, error) {
	return s.Stats(ctx, LogFilter{Since: since, Adapter: adapter})
}

// Stats aggregates the rows of a filter in SQL, on both dialects: counts, sums and the
// average per adapter, nearest-rank percentiles (ROW_NUMBER over the window; TTFT
// percentiles ignore rows without a TTFT, 0), and requests per minute. No row is read
// into the gateway.
func (s *RequestLog) Stats(ctx context.Context, f LogFilter) (TrafficSummary, error) {
	where, args := f.where()
	var groups []struct {
		Adapter     string  `db:"adapter"`
		Requests    int     `db:"requests"`
		Errors      int     `db:"errors"`
		Cancelled   int     `db:"cancelled"`
		CacheHits   int     `db:"cache_hits"`
		Coalesced   int     `db:"coalesced"`
		TokensIn    int64   `db:"tokens_in"`
		TokensOut   int64   `db:"tokens_out"`
		UpstreamIn  int64   `db:"upstream_in"`
		UpstreamOut int64   `db:"upstream_out"`
		LatencySum  float64 `db:"latency_sum"`
	}
	q := `SELECT adapter, COUNT(*) AS requests,
		COALESCE(SUM(CASE WHEN ` + sqlFailed + ` THEN 1 ELSE 0 END), 0) AS errors,
		COALESCE(SUM(CASE WHEN ` + sqlCancelled + ` THEN 1 ELSE 0 END), 0) AS cancelled,
		COALESCE(SUM(CASE WHEN cached THEN 1 ELSE 0 END), 0) AS cache_hits,
		COALESCE(SUM(CASE WHEN coalesced THEN 1 ELSE 0 END), 0) AS coalesced,
		COALESCE(SUM(tokens_in), 0) AS tokens_in, COALESCE(SUM(tokens_out), 0) AS tokens_out,
		COALESCE(SUM(upstream_tokens_in), 0) AS upstream_in, COALESCE(SUM(upstream_tokens_out), 0) AS upstream_out,
		COALESCE(SUM(latency_ms), 0) AS latency_sum
		FROM request_log WHERE ` + where + ` GROUP BY adapter`
	if err := s.db.x.SelectContext(ctx, &groups, s.db.x.Rebind(q), args...); err != nil {
		return TrafficSummary{}, wrap("request log stats", err)
	}
	latency, err := s.percentiles(ctx, "latency_ms", where, args)
	if err != nil {
		return TrafficSummary{}, err
	}
	ttft, err := s.percentiles(ctx, "ttft_ms", where+` AND ttft_ms > 0`, args)
	if err != nil {
		return TrafficSummary{}, err
	}
	out := TrafficSummary{ByAdapter: []TrafficStats{}, PerMinute: []MinuteCount{}}
	var latencySum float64
	for _, g := range groups {
		st := TrafficStats{Adapter: g.Adapter, Requests: g.Requests, Errors: g.Errors, Cancelled: g.Cancelled,
			CacheHits: g.CacheHits, Coalesced: g.Coalesced, TokensIn: g.TokensIn, TokensOut: g.TokensOut,
			UpstreamIn: g.UpstreamIn, UpstreamOut: g.UpstreamOut}
		if g.Requests > 0 {
			st.AvgLatencyMs = g.LatencySum / float64(g.Requests)
		}
		st.P50LatencyMs, st.P99LatencyMs = latency.of(g.Adapter)
		st.P50TTFTMs, st.P99TTFTMs = ttft.of(g.Adapter)
		out.ByAdapter = append(out.ByAdapter, st)
		t := &out.Total
		t.Requests += g.Requests
		t.Errors += g.Errors
		t.Cancelled += g.Cancelled
		t.CacheHits += g.CacheHits
		t.Coalesced += g.Coalesced
		t.TokensIn += g.TokensIn
		t.TokensOut += g.TokensOut
		t.UpstreamIn += g.UpstreamIn
		t.UpstreamOut += g.UpstreamOut
		latencySum += g.LatencySum
	}
	slices.SortFunc(out.ByAdapter, func(a, b TrafficStats) int { return cmp.Compare(a.Adapter, b.Adapter) })
	if out.Total.Requests > 0 {
		out.Total.AvgLatencyMs = latencySum / float64(out.Total.Requests)
	}
	out.Total.P50LatencyMs, out.Total.P99LatencyMs = latency.total[0], latency.total[1]
	out.Total.P50TTFTMs, out.Total.P99TTFTMs = ttft.total[0], ttft.total[1]

	var minutes []struct {
		Minute int64 `db:"m"`
		N      int   `db:"n"`
	}
	q = `SELECT ` + s.epochSeconds() + ` / 60 AS m, COUNT(*) AS n FROM request_log WHERE ` + where + ` GROUP BY m ORDER BY m`
	if err := s.db.x.SelectContext(ctx, &minutes, s.db.x.Rebind(q), args...); err != nil {
		return TrafficSummary{}, wrap("request log per minute", err)
	}
	for _, m := range minutes {
		out.PerMinute = append(out.PerMinute, MinuteCount{Minute: time.Unix(m.Minute*60, 0).UTC(), Count: m.N})
	}
	return out, nil
}

// epochSeconds is the SQL of created_at in whole seconds since 1970 (floored).
func (s *RequestLog) epochSeconds() string {
	if s.db.dialect == Postgres {
		return `CAST(FLOOR(EXTRACT(EPOCH FROM created_at)) AS BIGINT)`
	}
	return `CAST(strftime('%s', created_at) AS INTEGER)`
}

// rankedPercentiles are the p50 and p99 of a column, per adapter and over all rows.
type rankedPercentiles struct {
	total     [2]float64
	byAdapter map[string][2]float64
}

func (p rankedPercentiles) of(adapter string) (float64, float64) {
	v := p.byAdapter[adapter]
	return v[0], v[1]
}

// percentiles computes the nearest-rank p50 and p99 of col over the rows of where:
// the value at rank ⌈p·n/100⌉ in ascending order, per adapter and over all rows.
func (s *RequestLog) percentiles(ctx context.Context, col, where string, args []any) (rankedPercentiles, error) {
	out := rankedPercentiles{byAdapter: map[string][2]float64{}}
	for _, perAdapter := range []bool{true, false} {
		partition, adapter := `PARTITION BY adapter `, `adapter`
		if !perAdapter {
			partition, adapter = ``, `''`
		}
		var rows []struct {
			Adapter string  `db:"adapter"`
			V       float64 `db:"v"`
			Rank    int64   `db:"rn"`
			N       int64   `db:"n"`
		}
		q := `SELECT adapter, v, rn, n FROM (SELECT ` + adapter + ` AS adapter, ` + col + ` AS v,
			ROW_NUMBER() OVER (` + partition + `ORDER BY ` + col + `) AS rn, COUNT(*) OVER (` + partition + `) AS n
			FROM request_log WHERE ` + where + `) ranked
			WHERE rn = (50 * n + 99) / 100 OR rn = (99 * n + 99) / 100`
		if err := s.db.x.SelectContext(ctx, &rows, s.db.x.Rebind(q), args...); err != nil {
			return out, wrap("request log percentiles", err)
		}
		for _, r := range rows {
			v := out.byAdapter[r.Adapter]
			if !perAdapter {
				v = out.total
			}
			if r.Rank == (50*r.N+99)/100 {
				v[0] = r.V
			}
			if r.Rank == (99*r.N+99)/100 {
				v[1] = r.V
			}
			if perAdapter {
				out.byAdapter[r.Adapter] = v
			} else {
				out.total = v
			}
		}
	}
	return out, nil
}

// LogBucket counts the rows that started in one step of a series.
type LogBucket struct {
	Start     time.Time
	Requests  int64
	Failed    int64
	Cancelled int64
}

// Buckets counts the rows of f in consecutive steps from f.Since to until: element i
// covers [Since+i·step, Since+(i+1)·step), to the second; empty steps are included.
func (s *RequestLog) Buckets(ctx context.Context, f LogFilter, until time.Time, step time.Duration) ([]LogBucket, error) {
	secs := int64(step / time.Second)
	if secs <= 0 {
		secs = 1
	}
	n := max(int((until.Sub(f.Since)+step-1)/step), 1)
	out := make([]LogBucket, n)
	for i := range out {
		out[i].Start = f.Since.Add(time.Duration(i) * step)
	}
	where, args := f.where()
	var rows []struct {
		B         int64 `db:"b"`
		Requests  int64 `db:"requests"`
		Failed    int64 `db:"failed"`
		Cancelled int64 `db:"cancelled"`
	}
	q := `SELECT (` + s.epochSeconds() + ` - ?) / ? AS b, COUNT(*) AS requests,
		COALESCE(SUM(CASE WHEN ` + sqlFailed + ` THEN 1 ELSE 0 END), 0) AS failed,
		COALESCE(SUM(CASE WHEN ` + sqlCancelled + ` THEN 1 ELSE 0 END), 0) AS cancelled
		FROM request_log WHERE ` + where + ` GROUP BY b`
	args = append([]any{f.Since.Unix(), secs}, args...)
	if err := s.db.x.SelectContext(ctx, &rows, s.db.x.Rebind(q), args...); err != nil {
		return nil, wrap("request log buckets", err)
	}
	for _, r := range rows {
		if r.B >= 0 && r.B < int64(n) {
			out[r.B].Requests, out[r.B].Failed, out[r.B].Cancelled = r.Requests, r.Failed, r.Cancelled
		}
	}
	return out, nil
}

// Percentile is the nearest-rank p-th percentile of xs (sorted in place); 0 for none.
func Percentile(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	slices.Sort(xs)
	rank := int(math.Ceil(p / 100 * float64(len(xs))))
	return xs[min(max(rank, 1), len(xs))-1]
}
