package store

import (
	"cmp"
	"context"
	"math"
	"slices"
	"time"
)

// TrafficStats aggregates request_log rows of one adapter (or all).
type TrafficStats struct {
	Adapter      string  `json:"adapter"`
	Requests     int     `json:"requests"`
	Errors       int     `json:"errors"` // status ≥ 400 or an error code
	CacheHits    int     `json:"cache_hits"`
	Coalesced    int     `json:"coalesced"`
	TokensIn     int64   `json:"tokens_in"`
	TokensOut    int64   `json:"tokens_out"`
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

// Summary aggregates the rows since a time, optionally of one adapter.
// Percentiles are nearest-rank over the window, computed in Go so that both
// dialects agree; TTFT percentiles ignore rows without a TTFT (0). It reads
// the window in full: keep windows to hours or days, not the whole log.
func (s *RequestLog) Summary(ctx context.Context, since time.Time, adapter string) (TrafficSummary, error) {
	rows, err := s.Since(ctx, since, adapter, 0)
	if err != nil {
		return TrafficSummary{}, err
	}
	groups := map[string][]RequestLogRow{}
	perMinute := map[time.Time]int{}
	for _, r := range rows {
		groups[r.Adapter] = append(groups[r.Adapter], r)
		perMinute[r.CreatedAt.UTC().Truncate(time.Minute)]++
	}
	out := TrafficSummary{Total: aggregate("", rows), ByAdapter: []TrafficStats{}, PerMinute: []MinuteCount{}}
	for name, g := range groups {
		out.ByAdapter = append(out.ByAdapter, aggregate(name, g))
	}
	slices.SortFunc(out.ByAdapter, func(a, b TrafficStats) int { return cmp.Compare(a.Adapter, b.Adapter) })
	for m, n := range perMinute {
		out.PerMinute = append(out.PerMinute, MinuteCount{Minute: m, Count: n})
	}
	slices.SortFunc(out.PerMinute, func(a, b MinuteCount) int { return a.Minute.Compare(b.Minute) })
	return out, nil
}

func aggregate(adapter string, rows []RequestLogRow) TrafficStats {
	st := TrafficStats{Adapter: adapter, Requests: len(rows)}
	lat := make([]float64, 0, len(rows))
	ttft := make([]float64, 0, len(rows))
	var sum float64
	for _, r := range rows {
		if r.Status >= 400 || r.ErrorCode != "" {
			st.Errors++
		}
		if r.Cached {
			st.CacheHits++
		}
		if r.Coalesced {
			st.Coalesced++
		}
		st.TokensIn += int64(r.TokensIn)
		st.TokensOut += int64(r.TokensOut)
		sum += r.LatencyMs
		lat = append(lat, r.LatencyMs)
		if r.TTFTMs > 0 {
			ttft = append(ttft, r.TTFTMs)
		}
	}
	if len(rows) > 0 {
		st.AvgLatencyMs = sum / float64(len(rows))
	}
	st.P50LatencyMs, st.P99LatencyMs = Percentile(lat, 50), Percentile(lat, 99)
	st.P50TTFTMs, st.P99TTFTMs = Percentile(ttft, 50), Percentile(ttft, 99)
	return st
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
