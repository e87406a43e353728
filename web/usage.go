package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// The usage API (docs/api.md, "Usage"): what the console's usage page shows, for
// integrators. GET /api/v1/usage is the caller's own usage — its API key's, or for a
// JWT its user's; GET /api/v1/admin/usage is anyone's, with filters and top lists
// (admin scope). Both read the hourly rollups (store.Usage), never the request log.

// usageFigures is one sum of usage.
type usageFigures struct {
	Requests          int64        `json:"requests"`
	Errors            int64        `json:"errors"`
	ClientErrors      int64        `json:"client_errors"`
	ServerErrors      int64        `json:"server_errors"`
	Cancelled         int64        `json:"cancelled"`
	CacheHits         int64        `json:"cache_hits"`
	Coalesced         int64        `json:"coalesced"`
	TokensIn          int64        `json:"tokens_in"`
	TokensOut         int64        `json:"tokens_out"`
	UpstreamTokensIn  int64        `json:"upstream_tokens_in"`
	UpstreamTokensOut int64        `json:"upstream_tokens_out"`
	CacheTokensIn     int64        `json:"cache_tokens_in"`
	CacheTokensOut    int64        `json:"cache_tokens_out"`
	Served            int64        `json:"served"`
	LatencyMs         *usageTiming `json:"latency_ms,omitempty"`
	TTFTMs            *usageTiming `json:"ttft_ms,omitempty"`
}

type usageTiming struct {
	P50 float64 `json:"p50"`
	P99 float64 `json:"p99"`
	Avg float64 `json:"avg"`
}

func toUsageFigures(u store.UsageStats, timings bool) usageFigures {
	f := usageFigures{Requests: u.Requests, Errors: u.Errors, ClientErrors: u.ClientErrors, ServerErrors: u.ServerErrors(),
		Cancelled: u.Cancelled, CacheHits: u.CacheHits, Coalesced: u.Coalesced, TokensIn: u.TokensIn, TokensOut: u.TokensOut,
		UpstreamTokensIn: u.UpstreamIn, UpstreamTokensOut: u.UpstreamOut, CacheTokensIn: u.CacheTokensIn,
		CacheTokensOut: u.CacheTokensOut, Served: u.Served}
	if timings {
		f.LatencyMs = &usageTiming{P50: round2(u.LatencyP(50)), P99: round2(u.LatencyP(99)), Avg: round2(u.AvgLatency())}
		f.TTFTMs = &usageTiming{P50: round2(u.TTFTP(50)), P99: round2(u.TTFTP(99)), Avg: round2(u.AvgTTFT())}
	}
	return f
}

type usageBucket struct {
	Start string `json:"start"`
	usageFigures
}

type usageGroup struct {
	KeyID   *int64 `json:"key_id,omitempty"`
	UserID  *int64 `json:"user_id,omitempty"`
	Adapter string `json:"adapter,omitempty"`
	Route   string `json:"route,omitempty"`
	usageFigures
}

type usageFilter struct {
	KeyID   int64  `json:"key_id,omitempty"`
	UserID  int64  `json:"user_id,omitempty"`
	Adapter string `json:"adapter,omitempty"`
	Route   string `json:"route,omitempty"`
}

type usageResponse struct {
	Period    string        `json:"period"`
	Step      string        `json:"step"`
	Since     string        `json:"since"`
	Until     string        `json:"until"`
	Filter    usageFilter   `json:"filter"`
	Totals    usageFigures  `json:"totals"`
	Series    []usageBucket `json:"series"`
	ByAdapter []usageGroup  `json:"by_adapter,omitempty"`
	ByRoute   []usageGroup  `json:"by_route,omitempty"`
	TopKeys   []usageGroup  `json:"top_keys,omitempty"`
	TopUsers  []usageGroup  `json:"top_users,omitempty"`
	// Completions is the acceptance of the inline completions of the same period and
	// filters (docs/api.md, "Completion feedback").
	Completions usageCompletions `json:"completions"`
}

// usageCompletions is what editors did with the completions they were shown:
// totals, a series per step, and the acceptance per language, adapter and model
// family (and, for admins, per key and user).
type usageCompletions struct {
	store.Acceptance
	Series        []store.AcceptancePoint `json:"series"`
	ByLanguage    []store.Acceptance      `json:"by_language"`
	ByAdapter     []store.Acceptance      `json:"by_adapter"`
	ByModelFamily []store.Acceptance      `json:"by_model_family"`
	ByKey         []store.Acceptance      `json:"by_key,omitempty"`
	ByUser        []store.Acceptance      `json:"by_user,omitempty"`
}

// usageQuery reads ?period=24h|7d|30d (default 7d) and ?step=hour|day; anything else
// is 422 E4008.
func (s *Server) usageQuery(r *http.Request) (store.UsageQuery, string, error) {
	q := r.URL.Query()
	p := q.Get("period")
	if p == "" {
		p = "7d"
	}
	uq, ok := store.UsagePeriod(p, q.Get("step"), s.now())
	if !ok {
		e := realtime.NewError(realtime.CodeOutOfRange, "period must be 24h, 7d or 30d and step hour or day")
		e.Fields = []realtime.FieldError{{Field: "period", Message: "must be one of 24h, 7d, 30d (step: hour, day)", Code: realtime.CodeOutOfRange}}
		return uq, "", e
	}
	return uq, p, nil
}

// handleUsage serves GET /api/v1/usage: the caller's own usage over time.
func (s *Server) handleUsage(w http.ResponseWriter, r *http.Request) {
	uq, p, err := s.usageQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	c, _ := callerFrom(r.Context())
	uq.KeyID = c.KeyID
	if c.KeyID == 0 {
		uq.UserID = c.UserID
	}
	if uq.KeyID == 0 && uq.UserID == 0 {
		s.writeError(w, r, realtime.NewError(realtime.CodeForbidden, "This credential has no key or user to report usage of"))
		return
	}
	out, err := s.usage(r, uq, p, false)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// handleAdminUsage serves GET /api/v1/admin/usage: anyone's usage, filtered by
// key_id, user_id, adapter and route, with the breakdowns and top keys and users.
func (s *Server) handleAdminUsage(w http.ResponseWriter, r *http.Request) {
	uq, p, err := s.usageQuery(r)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	q := r.URL.Query()
	var v validator
	for _, f := range []struct {
		name string
		dst  *int64
	}{{"key_id", &uq.KeyID}, {"user_id", &uq.UserID}} {
		if raw := q.Get(f.name); raw != "" {
			n, err := strconv.ParseInt(raw, 10, 64)
			if err != nil || n <= 0 {
				v.add(f.name, realtime.CodeOutOfRange, "must be a positive integer")
				continue
			}
			*f.dst = n
		}
	}
	uq.Adapter, uq.Route = q.Get("adapter"), q.Get("route")
	if err := v.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	out, err := s.usage(r, uq, p, true)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, out)
}

// usage answers uq; admin adds the breakdowns and top lists.
func (s *Server) usage(r *http.Request, uq store.UsageQuery, period string, admin bool) (usageResponse, error) {
	ctx := r.Context()
	u := s.deps.DB.Usage()
	total, series, err := u.Series(ctx, uq)
	if err != nil {
		return usageResponse{}, realtime.Wrap(realtime.CodeDatabaseError, err)
	}
	step := "day"
	if uq.Step == time.Hour {
		step = "hour"
	}
	out := usageResponse{Period: period, Step: step, Since: uq.Since.UTC().Format(time.RFC3339), Until: uq.Until.UTC().Format(time.RFC3339),
		Filter: usageFilter{KeyID: uq.KeyID, UserID: uq.UserID, Adapter: uq.Adapter, Route: uq.Route},
		Totals: toUsageFigures(total, true), Series: make([]usageBucket, 0, len(series))}
	for _, b := range series {
		out.Series = append(out.Series, usageBucket{Start: b.Start.UTC().Format(time.RFC3339), usageFigures: toUsageFigures(b.UsageStats, true)})
	}
	if out.Completions, err = s.completionUsage(r, uq, admin); err != nil {
		return usageResponse{}, err
	}
	if !admin {
		return out, nil
	}
	for _, by := range []string{"adapter", "route", "key", "user"} {
		if (by == "key" && uq.KeyID != 0) || (by == "user" && (uq.KeyID != 0 || uq.UserID != 0)) {
			continue
		}
		limit := 0
		if by == "key" || by == "user" {
			limit = 10
		}
		groups, err := u.Top(ctx, uq, by, limit)
		if err != nil {
			return usageResponse{}, realtime.Wrap(realtime.CodeDatabaseError, err)
		}
		list := make([]usageGroup, 0, len(groups))
		for _, g := range groups {
			ug := usageGroup{Adapter: g.Adapter, Route: g.Route, usageFigures: toUsageFigures(g.UsageStats, by == "adapter" || by == "route")}
			switch by {
			case "key":
				ug.KeyID = &g.KeyID
			case "user":
				ug.UserID = &g.UserID
			}
			list = append(list, ug)
		}
		switch by {
		case "adapter":
			out.ByAdapter = list
		case "route":
			out.ByRoute = list
		case "key":
			out.TopKeys = list
		case "user":
			out.TopUsers = list
		}
	}
	return out, nil
}

// completionUsage is the completions part of a usage answer.
func (s *Server) completionUsage(r *http.Request, uq store.UsageQuery, admin bool) (usageCompletions, error) {
	ctx := r.Context()
	ev := s.deps.DB.CompletionEvents()
	var out usageCompletions
	all, err := ev.Acceptance(ctx, uq, "")
	if err != nil {
		return out, realtime.Wrap(realtime.CodeDatabaseError, err)
	}
	out.Acceptance = store.Acceptance{Group: "all"}
	if len(all) == 1 {
		out.Acceptance = all[0]
	}
	if out.Series, err = ev.AcceptanceSeries(ctx, uq); err != nil {
		return out, realtime.Wrap(realtime.CodeDatabaseError, err)
	}
	type group struct {
		by  string
		dst *[]store.Acceptance
	}
	groups := []group{{"language", &out.ByLanguage}, {"adapter", &out.ByAdapter}, {"model_family", &out.ByModelFamily}}
	if admin && uq.KeyID == 0 {
		groups = append(groups, group{"key_id", &out.ByKey})
	}
	if admin && uq.KeyID == 0 && uq.UserID == 0 {
		groups = append(groups, group{"user_id", &out.ByUser})
	}
	for _, g := range groups {
		if *g.dst, err = ev.Acceptance(ctx, uq, g.by); err != nil {
			return out, realtime.Wrap(realtime.CodeDatabaseError, err)
		}
	}
	return out, nil
}
