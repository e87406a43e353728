package web

import (
	"cmp"
	"context"
	"errors"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// opsPeriods are the windows of ?period= and their bucket widths.
var opsPeriods = map[string]struct{ span, bucket time.Duration }{
	"1h":  {time.Hour, 5 * time.Minute},
	"24h": {24 * time.Hour, time.Hour},
	"7d":  {7 * 24 * time.Hour, 6 * time.Hour},
	"30d": {30 * 24 * time.Hour, 24 * time.Hour},
}

// period reads ?period= (default 24h); anything else is 422 E4008.
func period(r *http.Request) (string, time.Duration, time.Duration, error) {
	p := r.URL.Query().Get("period")
	if p == "" {
		p = "24h"
	}
	w, ok := opsPeriods[p]
	if !ok {
		e := realtime.NewError(realtime.CodeOutOfRange, "period must be one of 1h, 24h, 7d, 30d")
		e.Fields = []realtime.FieldError{{Field: "period", Message: "must be one of 1h, 24h, 7d, 30d", Code: realtime.CodeOutOfRange}}
		return "", 0, 0, e
	}
	return p, w.span, w.bucket, nil
}

type codeCount struct {
	Code        string `json:"code"`
	Count       int    `json:"count"`
	Description string `json:"description"`
}

type incidentSummary struct {
	IncidentID string `json:"incident_id"`
	ErrorCode  string `json:"error_code"`
	Timestamp  string `json:"timestamp"`
	Status     string `json:"status"`
	Path       string `json:"path"`
}

// handleErrorsDashboard serves GET /api/v1/errors/dashboard. total_errors counts the
// incidents on record (server errors within ERROR_RETENTION_DAYS); errors_last_24h and
// top_error_codes count the failed requests of the request log in the last 24 hours
// plus the incidents of that window that have no request-log row (routes outside the
// engine); error_rate is failed / all request-log rows of the last 24 hours.
func (s *Server) handleErrorsDashboard(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	since := s.now().Add(-24 * time.Hour)
	inc := s.deps.DB.Incidents()
	total, err := inc.Total(ctx)
	if err != nil {
		s.writeError(w, r, realtime.Wrap(realtime.CodeDatabaseError, err))
		return
	}
	rows, err := s.deps.DB.RequestLog().Since(ctx, since, "", 0)
	if err != nil {
		s.writeError(w, r, realtime.Wrap(realtime.CodeDatabaseError, err))
		return
	}
	window, err := incidentsSince(ctx, inc, since)
	if err != nil {
		s.writeError(w, r, realtime.Wrap(realtime.CodeDatabaseError, err))
		return
	}
	counts := map[string]int{}
	logged := map[string]bool{}
	failed := 0
	for _, row := range rows {
		if row.Status >= 400 || row.ErrorCode != "" {
			failed++
			counts[cmp.Or(row.ErrorCode, string(statusCode(row.Status)))]++
			if row.RequestID != "" {
				logged[row.RequestID] = true
			}
		}
	}
	errs24 := failed
	for _, in := range window {
		if in.RequestID == "" || !logged[in.RequestID] {
			errs24++
			counts[in.Code]++
		}
	}
	recent, err := inc.Recent(ctx, 10)
	if err != nil {
		s.writeError(w, r, realtime.Wrap(realtime.CodeDatabaseError, err))
		return
	}
	rate := 0.0
	if len(rows) > 0 {
		rate = math.Round(float64(failed)/float64(len(rows))*1e4) / 1e4
	}
	out := struct {
		TotalErrors     int               `json:"total_errors"`
		ErrorsLast24h   int               `json:"errors_last_24h"`
		RequestsLast24h int               `json:"requests_last_24h"`
		ErrorRate       float64           `json:"error_rate"`
		TopErrorCodes   []codeCount       `json:"top_error_codes"`
		RecentIncidents []incidentSummary `json:"recent_incidents"`
		GeneratedAt     string            `json:"generated_at"`
	}{TotalErrors: total, ErrorsLast24h: errs24, RequestsLast24h: len(rows), ErrorRate: rate,
		TopErrorCodes: topCodes(counts, 10), RecentIncidents: []incidentSummary{}, GeneratedAt: s.now().UTC().Format(time.RFC3339)}
	for _, in := range recent {
		out.RecentIncidents = append(out.RecentIncidents, incidentSummary{IncidentID: in.ID, ErrorCode: in.Code,
			Timestamp: in.CreatedAt.UTC().Format(time.RFC3339), Status: in.Status, Path: in.Path})
	}
	writeJSON(w, http.StatusOK, out)
}

// incidentsSince returns the incidents created at or after since (newest first).
// Recent is bounded, so this reads at most 10,000 rows.
func incidentsSince(ctx context.Context, inc *store.Incidents, since time.Time) ([]store.Incident, error) {
	all, err := inc.Recent(ctx, 10000)
	if err != nil {
		return nil, err
	}
	i := slices.IndexFunc(all, func(in store.Incident) bool { return in.CreatedAt.Before(since) })
	if i >= 0 {
		all = all[:i]
	}
	return all, nil
}

// statusCode names a request-log row without an error code by the catalogue code of
// its status.
func statusCode(status int) realtime.Code {
	for _, c := range realtime.Catalogue() {
		if c.HTTPStatus == status {
			return c.Code
		}
	}
	return realtime.CodeInternal
}

// topCodes sorts counts by count (then code) and keeps the first n.
func topCodes(counts map[string]int, n int) []codeCount {
	out := make([]codeCount, 0, len(counts))
	for c, k := range counts {
		out = append(out, codeCount{Code: c, Count: k, Description: realtime.Lookup(realtime.Code(c)).Description})
	}
	slices.SortFunc(out, func(a, b codeCount) int {
		return cmp.Or(cmp.Compare(b.Count, a.Count), cmp.Compare(a.Code, b.Code))
	})
	return out[:min(n, len(out))]
}

// handleErrorPatterns serves GET /api/v1/errors/patterns?period=1h|24h|7d|30d: the
// incidents (server errors) of the period per code, in buckets of 5m, 1h, 6h or 1d,
// with each code's first and last sighting on record.
func (s *Server) handleErrorPatterns(w http.ResponseWriter, r *http.Request) {
	name, span, width, err := period(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	now := s.now().UTC()
	since := now.Add(-span).Truncate(width)
	inc := s.deps.DB.Incidents()
	byCode, err1 := inc.CountByCode(ctx, since)
	buckets, err2 := inc.Buckets(ctx, since, width)
	spans, err3 := inc.FirstLast(ctx)
	if err := errors.Join(err1, err2, err3); err != nil {
		s.writeError(w, r, realtime.Wrap(realtime.CodeDatabaseError, err))
		return
	}
	type pattern struct {
		Code        string `json:"code"`
		Description string `json:"description"`
		Count       int    `json:"count"`
		FirstSeen   string `json:"first_seen"`
		LastSeen    string `json:"last_seen"`
		Buckets     []int  `json:"buckets"`
	}
	type bucket struct {
		Start  string         `json:"start"`
		Total  int            `json:"total"`
		Counts map[string]int `json:"counts"`
	}
	n := max(int((now.Sub(since)+width-1)/width), 1)
	out := struct {
		Period        string    `json:"period"`
		Since         string    `json:"since"`
		Until         string    `json:"until"`
		BucketSeconds int64     `json:"bucket_seconds"`
		TotalErrors   int       `json:"total_errors"`
		Patterns      []pattern `json:"patterns"`
		Buckets       []bucket  `json:"buckets"`
	}{Period: name, Since: since.Format(time.RFC3339), Until: now.Format(time.RFC3339),
		BucketSeconds: int64(width / time.Second), Patterns: []pattern{}, Buckets: make([]bucket, n)}
	for i := range out.Buckets {
		out.Buckets[i] = bucket{Start: since.Add(time.Duration(i) * width).Format(time.RFC3339), Counts: map[string]int{}}
	}
	for _, c := range topCodes(byCode, len(byCode)) {
		p := pattern{Code: c.Code, Description: c.Description, Count: c.Count, Buckets: make([]int, n)}
		if sp, ok := spans[c.Code]; ok {
			p.FirstSeen, p.LastSeen = sp.First.UTC().Format(time.RFC3339), sp.Last.UTC().Format(time.RFC3339)
		}
		for i, k := range buckets[c.Code] {
			if i < n && k > 0 {
				p.Buckets[i] = k
				out.Buckets[i].Counts[c.Code] = k
				out.Buckets[i].Total += k
			}
		}
		out.TotalErrors += c.Count
		out.Patterns = append(out.Patterns, p)
	}
	writeJSON(w, http.StatusOK, out)
}

// handleIncident serves GET /api/v1/errors/incidents/{id}. Operators see the internal
// detail (admin scope only).
func (s *Server) handleIncident(w http.ResponseWriter, r *http.Request) {
	in, err := s.deps.DB.Incidents().Get(r.Context(), r.PathValue("id"))
	switch {
	case errors.Is(err, store.ErrNotFound):
		s.writeError(w, r, realtime.NewError(realtime.CodeNotFound, "Incident not found: "+r.PathValue("id")))
		return
	case err != nil:
		s.writeError(w, r, realtime.Wrap(realtime.CodeDatabaseError, err))
		return
	}
	out := struct {
		store.Incident
		Timestamp   string `json:"timestamp"`
		Description string `json:"description"`
		Hint        string `json:"recovery_hint"`
	}{Incident: in, Timestamp: in.CreatedAt.UTC().Format(time.RFC3339), Description: realtime.Lookup(realtime.Code(in.Code)).Description,
		Hint: realtime.Lookup(realtime.Code(in.Code)).Hint}
	writeJSON(w, http.StatusOK, out)
}
