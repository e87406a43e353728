package admin

import (
	"cmp"
	"context"
	"slices"
	"time"

	"github.com/hapa-project/hapa/store"
)

// storeUsage is the default Usage: it aggregates store's request log in Go. It reads
// the whole window, so the console keeps its windows to an hour (overview) or a week
// (user pages).
type storeUsage struct {
	db  *store.DB
	now func() time.Time
}

func (u storeUsage) Summary(ctx context.Context, f UsageFilter) (UsageSummary, error) {
	if f.UserID == 0 {
		ts, err := u.db.RequestLog().Summary(ctx, f.Since, "")
		if err != nil {
			return UsageSummary{}, err
		}
		t := ts.Total
		return UsageSummary{Requests: int64(t.Requests), Errors: int64(t.Errors), Cached: int64(t.CacheHits),
			TokensIn: t.TokensIn, TokensOut: t.TokensOut, LatencyP50: t.P50LatencyMs, LatencyP99: t.P99LatencyMs,
			TTFTP50: t.P50TTFTMs, TTFTP99: t.P99TTFTMs}, nil
	}
	rows, err := u.db.RequestLog().Since(ctx, f.Since, "", 0)
	if err != nil {
		return UsageSummary{}, err
	}
	var s UsageSummary
	var lat, ttft []float64
	for _, r := range rows {
		if r.UserID == nil || *r.UserID != f.UserID || (!f.Until.IsZero() && !r.CreatedAt.Before(f.Until)) {
			continue
		}
		s.Requests++
		if r.Status >= 400 || r.ErrorCode != "" {
			s.Errors++
		}
		if r.Cached {
			s.Cached++
		}
		s.TokensIn += int64(r.TokensIn)
		s.TokensOut += int64(r.TokensOut)
		lat = append(lat, r.LatencyMs)
		if r.TTFTMs > 0 {
			ttft = append(ttft, r.TTFTMs)
		}
	}
	s.LatencyP50, s.LatencyP99 = store.Percentile(lat, 50), store.Percentile(lat, 99)
	s.TTFTP50, s.TTFTP99 = store.Percentile(ttft, 50), store.Percentile(ttft, 99)
	return s, nil
}

func (u storeUsage) Series(ctx context.Context, since time.Time, step time.Duration) ([]Bucket, error) {
	rows, err := u.db.RequestLog().Since(ctx, since, "", 0)
	if err != nil {
		return nil, err
	}
	return bucketize(since, u.now(), step, len(rows), func(i int) (time.Time, bool) {
		return rows[i].CreatedAt, rows[i].Status >= 400 || rows[i].ErrorCode != ""
	}), nil
}

// storeIncidents is the default Incidents, on store's incidents table.
type storeIncidents struct {
	db  *store.DB
	now func() time.Time
}

func (s storeIncidents) Recent(ctx context.Context, limit int) ([]Incident, error) {
	rows, err := s.db.Incidents().Recent(ctx, limit)
	out := make([]Incident, 0, len(rows))
	for _, r := range rows {
		out = append(out, incidentView(r))
	}
	return out, err
}

func (s storeIncidents) ByID(ctx context.Context, id string) (Incident, error) {
	r, err := s.db.Incidents().Get(ctx, id)
	return incidentView(r), err
}

func (s storeIncidents) Codes(ctx context.Context, since time.Time) ([]CodeCount, error) {
	counts, err := s.db.Incidents().CountByCode(ctx, since)
	if err != nil {
		return nil, err
	}
	spans, err := s.db.Incidents().FirstLast(ctx)
	if err != nil {
		return nil, err
	}
	out := make([]CodeCount, 0, len(counts))
	for code, n := range counts {
		sp := spans[code]
		out = append(out, CodeCount{Code: code, Count: int64(n), FirstSeen: sp.First, LastSeen: sp.Last})
	}
	slices.SortFunc(out, func(a, b CodeCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Code, b.Code))
	})
	return out, nil
}

func (s storeIncidents) Series(ctx context.Context, since time.Time, step time.Duration) ([]Bucket, error) {
	byCode, err := s.db.Incidents().Buckets(ctx, since, step)
	if err != nil {
		return nil, err
	}
	n := max(int((s.now().Sub(since)+step-1)/step), 1)
	out := make([]Bucket, n)
	for i := range out {
		out[i].Start = since.Add(time.Duration(i) * step)
	}
	for _, counts := range byCode {
		for i, c := range counts {
			if i < n {
				out[i].Count += int64(c)
				out[i].Errors += int64(c)
			}
		}
	}
	return out, nil
}

func incidentView(r store.Incident) Incident {
	return Incident{ID: r.ID, Code: r.Code, CreatedAt: r.CreatedAt, Path: r.Path, RequestID: r.RequestID,
		Message: r.Message, Detail: r.Detail, Status: r.Status, HTTPStatus: r.HTTPStatus}
}

// bucketize counts n events (time and failure of event i from at) into steps from
// since to until, including empty steps.
func bucketize(since, until time.Time, step time.Duration, n int, at func(int) (time.Time, bool)) []Bucket {
	count := max(int((until.Sub(since)+step-1)/step), 1)
	out := make([]Bucket, count)
	for i := range out {
		out[i].Start = since.Add(time.Duration(i) * step)
	}
	for i := range n {
		t, failed := at(i)
		if j := int(t.Sub(since) / step); j >= 0 && j < count {
			out[j].Count++
			if failed {
				out[j].Errors++
			}
		}
	}
	return out
}
