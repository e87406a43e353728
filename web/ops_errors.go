package web

import (
	"cmp"
	"errors"
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

// errorClass reads ?class=4xx|5xx|all (default all); anything else is 422 E4008.
func errorClass(r *http.Request) (store.ErrorClass, error) {
	c, ok := store.ParseErrorClass(r.URL.Query().Get("class"))
	if !ok {
		e := realtime.NewError(realtime.CodeOutOfRange, "class must be one of 4xx, 5xx, all")
		e.Fields = []realtime.FieldError{{Field: "class", Message: "must be one of 4xx, 5xx, all", Code: realtime.CodeOutOfRange}}
		return "", e
	}
	return c, nil
}

// handleErrorsDashboard serves GET /api/v1/errors/dashboard?class=4xx|5xx|all. Every
// figure is counted in SQL (realtime.ReportErrors over store.DB.ErrorFigures):
// total_errors counts the incidents on record (server errors within
// ERROR_RETENTION_DAYS); errors_last_24h and top_error_codes count the errors of the
// class in the last 24 hours — failed request-log rows, incidents of requests without
// one, and the client errors of requests without one; error_rate is the failed
// request-log rows of the class over all request-log rows. A cancel (status 499) is no
// error: cancelled_last_24h and cancel_rate count them.
func (s *Server) handleErrorsDashboard(w http.ResponseWriter, r *http.Request) {
	class, err := errorClass(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ctx := r.Context()
	inc := s.deps.DB.Incidents()
	total, err := inc.Total(ctx)
	if err != nil {
		s.writeError(w, r, realtime.Wrap(realtime.CodeDatabaseError, err))
		return
	}
	rep, err := realtime.ReportErrors(ctx, s.deps.DB, s.now().Add(-24*time.Hour), class)
	if err != nil {
		s.writeError(w, r, realtime.Wrap(realtime.CodeDatabaseError, err))
		return
	}
	recent, err := inc.Recent(ctx, 10)
	if err != nil {
		s.writeError(w, r, realtime.Wrap(realtime.CodeDatabaseError, err))
		return
	}
	out := errorsDashboard{TotalErrors: total, ErrorsLast24h: rep.Errors, RequestsLast24h: rep.Requests,
		ErrorRate:     ratio(rep.Failed, rep.Requests),
		TopErrorCodes: []codeCount{}, RecentIncidents: []incidentSummary{}, GeneratedAt: s.now().UTC().Format(time.RFC3339),
		Class: class, CancelledLast24h: rep.Cancelled, CancelRate: ratio(rep.Cancelled, rep.Requests),
		ClientErrorsLast24h: rep.ClientErrors, ServerErrorsLast24h: rep.ServerErrors}
	for _, c := range rep.Codes[:min(10, len(rep.Codes))] {
		out.TopErrorCodes = append(out.TopErrorCodes, codeCount{Code: string(c.Code), Count: c.Count, Description: c.Description})
	}
	for _, in := range recent {
		out.RecentIncidents = append(out.RecentIncidents, incidentSummary{IncidentID: in.ID, ErrorCode: in.Code,
			Timestamp: in.CreatedAt.UTC().Format(time.RFC3339), Status: in.Status, Path: in.Path})
	}
	writeJSON(w, http.StatusOK, out)
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
	n := max(int((now.Sub(since)+width-1)/width), 1)
	out := errorPatterns{Period: name, Since: since.Format(time.RFC3339), Until: now.Format(time.RFC3339),
		BucketSeconds: int64(width / time.Second), Patterns: []errorPattern{}, Buckets: make([]errorBucket, n)}
	for i := range out.Buckets {
		out.Buckets[i] = errorBucket{Start: since.Add(time.Duration(i) * width).Format(time.RFC3339), Counts: map[string]int{}}
	}
	for _, c := range topCodes(byCode, len(byCode)) {
		p := errorPattern{Code: c.Code, Description: c.Description, Count: c.Count, Buckets: make([]int, n)}
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
	out := incidentDetail{Incident: in, Timestamp: in.CreatedAt.UTC().Format(time.RFC3339), Description: realtime.Lookup(realtime.Code(in.Code)).Description,
		Hint: realtime.Lookup(realtime.Code(in.Code)).Hint}
	writeJSON(w, http.StatusOK, out)
}

// errorsDashboard is the body of GET /api/v1/errors/dashboard.
type errorsDashboard struct {
	TotalErrors     int               `json:"total_errors"`
	ErrorsLast24h   int               `json:"errors_last_24h"`
	RequestsLast24h int               `json:"requests_last_24h"`
	ErrorRate       float64           `json:"error_rate"`
	TopErrorCodes   []codeCount       `json:"top_error_codes"`
	RecentIncidents []incidentSummary `json:"recent_incidents"`
	GeneratedAt     string            `json:"generated_at"`
	// HAPA additions
	Class               store.ErrorClass `json:"class"`
	CancelledLast24h    int              `json:"cancelled_last_24h"`
	CancelRate          float64          `json:"cancel_rate"`
	ClientErrorsLast24h int              `json:"client_errors_last_24h"`
	ServerErrorsLast24h int              `json:"server_errors_last_24h"`
}

// errorPattern is one code's incidents over a period, per bucket.
type errorPattern struct {
	Code        string `json:"code"`
	Description string `json:"description"`
	Count       int    `json:"count"`
	FirstSeen   string `json:"first_seen"`
	LastSeen    string `json:"last_seen"`
	Buckets     []int  `json:"buckets"`
}
type errorBucket struct {
	Start  string         `json:"start"`
	Total  int            `json:"total"`
	Counts map[string]int `json:"counts"`
}

// errorPatterns is the body of GET /api/v1/errors/patterns.
type errorPatterns struct {
	Period        string         `json:"period"`
	Since         string         `json:"since"`
	Until         string         `json:"until"`
	BucketSeconds int64          `json:"bucket_seconds"`
	TotalErrors   int            `json:"total_errors"`
	Patterns      []errorPattern `json:"patterns"`
	Buckets       []errorBucket  `json:"buckets"`
}

// incidentDetail is the body of GET /api/v1/errors/incidents/{id}.
type incidentDetail struct {
	store.Incident
	Timestamp   string `json:"timestamp"`
	Description string `json:"description"`
	Hint        string `json:"recovery_hint"`
}
