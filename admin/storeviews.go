package admin

import (
	"context"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// storeUsage is the default Usage: store's request log, aggregated in SQL
// (store.RequestLog.Stats and Buckets).
type storeUsage struct {
	db  *store.DB
	now func() time.Time
}

// Summary counts every row of the filter and takes the latency figures from the rows
// vLLM served (store.LogFilter.Source), so cache hits do not hide the model's
// latency; the cache hits' mean latency is apart.
func (u storeUsage) Summary(ctx context.Context, f UsageFilter) (UsageSummary, error) {
	lf := store.LogFilter{Since: f.Since, Until: f.Until, UserID: f.UserID, KeyID: f.KeyID}
	all, err := u.db.RequestLog().Stats(ctx, lf)
	if err != nil {
		return UsageSummary{}, err
	}
	lf.Source = "served"
	served, err := u.db.RequestLog().Stats(ctx, lf)
	if err != nil {
		return UsageSummary{}, err
	}
	lf.Source = "cache"
	hits, err := u.db.RequestLog().Stats(ctx, lf)
	if err != nil {
		return UsageSummary{}, err
	}
	t, s := all.Total, served.Total
	out := UsageSummary{Requests: int64(t.Requests), Errors: int64(t.Errors), Cancelled: int64(t.Cancelled),
		Cached: int64(t.CacheHits), TokensIn: t.TokensIn, TokensOut: t.TokensOut, LatencyP50: s.P50LatencyMs,
		LatencyP99: s.P99LatencyMs, TTFTP50: s.P50TTFTMs, TTFTP99: s.P99TTFTMs, CacheLatency: hits.Total.AvgLatencyMs}
	return out, nil
}

func (u storeUsage) Series(ctx context.Context, since time.Time, step time.Duration) ([]Bucket, error) {
	bs, err := u.db.RequestLog().Buckets(ctx, store.LogFilter{Since: since}, u.now(), step)
	if err != nil {
		return nil, err
	}
	out := make([]Bucket, len(bs))
	for i, b := range bs {
		out[i] = Bucket{Start: b.Start, Count: b.Requests, Errors: b.Failed}
	}
	return out, nil
}

// storeIncidents is the default Incidents, on store's incidents table.
type storeIncidents struct {
	db  *store.DB
	now func() time.Time
}

func (s storeIncidents) Recent(ctx context.Context, state string, limit int) ([]Incident, error) {
	rows, err := s.db.Incidents().List(ctx, store.IncidentFilter{State: state, Limit: limit})
	out := make([]Incident, 0, len(rows))
	for _, r := range rows {
		out = append(out, incidentWork(r))
	}
	return out, err
}

func (s storeIncidents) ByID(ctx context.Context, id string) (Incident, error) {
	w, err := s.db.Incidents().Work(ctx, id)
	return incidentWork(w), err
}

func (s storeIncidents) Errors(ctx context.Context, since time.Time, class string) (ErrorCounts, error) {
	c, ok := store.ParseErrorClass(class)
	if !ok {
		c = store.ClassAll
	}
	rep, err := realtime.ReportErrors(ctx, s.db, since, c)
	if err != nil {
		return ErrorCounts{}, err
	}
	out := ErrorCounts{Cancelled: int64(rep.Cancelled), Requests: int64(rep.Requests), Codes: make([]CodeCount, 0, len(rep.Codes))}
	for _, cc := range rep.Codes {
		out.Codes = append(out.Codes, CodeCount{Code: string(cc.Code), Description: cc.Description, Count: int64(cc.Count),
			FirstSeen: cc.First, LastSeen: cc.Last})
	}
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

// incidentWork is the view of an incident with its workflow.
func incidentWork(w store.IncidentWork) Incident {
	in := incidentView(w.Incident)
	in.Status = w.State()
	in.AcknowledgedAt, in.AcknowledgedBy, in.ResolvedAt, in.ResolvedBy = w.AcknowledgedAt, w.AcknowledgedBy, w.ResolvedAt, w.ResolvedBy
	for _, n := range w.Notes {
		in.Notes = append(in.Notes, IncidentNote{At: n.CreatedAt, Actor: n.Actor, Action: n.Action, Note: n.Note})
	}
	return in
}

func incidentView(r store.Incident) Incident {
	return Incident{ID: r.ID, Code: r.Code, CreatedAt: r.CreatedAt, Path: r.Path, RequestID: r.RequestID,
		Message: r.Message, Detail: r.Detail, Status: r.Status, HTTPStatus: r.HTTPStatus}
}
