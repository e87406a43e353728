package admin

import (
	"context"
	"encoding/csv"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hapa-project/hapa/store"
)

// usageTopN is how many keys and users the top tables list.
const usageTopN = 10

// usageQuery reads the usage page's (and its CSV's) query; values it cannot use are
// listed in the view's Problems and ignored.
func (h *Handler) usageQuery(ctx context.Context, q url.Values) (store.UsageQuery, UsageView) {
	v := UsageView{Period: q.Get("period"), Step: q.Get("step"), Key: strings.TrimSpace(q.Get("key")),
		User: strings.TrimSpace(q.Get("user")), Adapter: q.Get("adapter"), Route: q.Get("route")}
	v.Periods = store.UsagePeriods
	if !slices.Contains(v.Periods, v.Period) {
		v.Period = "7d"
	}
	if v.Step != "hour" && v.Step != "day" {
		v.Step = ""
	}
	uq, _ := store.UsagePeriod(v.Period, v.Step, h.now())
	v.Step = map[bool]string{true: "day", false: "hour"}[uq.Step == 24*time.Hour]
	uq.KeyID, uq.UserID = h.keyUserFilter(ctx, v.Key, v.User, &v.Problems)
	uq.Adapter, uq.Route = v.Adapter, v.Route
	v.Since, v.Until = uq.Since, uq.Until
	return uq, v
}

// keyUserFilter reads a page's key filter (the key's number) and user filter (an id
// or an e-mail address); what it cannot use goes to problems. An unknown user gives
// -1, which matches nothing rather than everything.
func (h *Handler) keyUserFilter(ctx context.Context, key, user string, problems *[]string) (keyID, userID int64) {
	if key != "" {
		if id, err := strconv.ParseInt(key, 10, 64); err == nil && id > 0 {
			keyID = id
		} else {
			*problems = append(*problems, "The key is the number in the key's page address (/admin/keys/<number>).")
		}
	}
	if user != "" {
		if id, err := strconv.ParseInt(user, 10, 64); err == nil && id > 0 {
			userID = id
		} else if u, err := h.db.Users().ByEmail(ctx, user); err == nil {
			userID = u.ID
		} else {
			*problems = append(*problems, "No user has this id or e-mail.")
			userID = -1
		}
	}
	return keyID, userID
}

// usagePage answers who used how much: requests, tokens (charged upstream and served
// from the cache), errors, cancels and latency over time, by adapter and route, and
// the top keys and users — all from the hourly rollups (store.Usage).
func (h *Handler) usagePage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	uq, v := h.usageQuery(ctx, r.URL.Query())
	total, series, err := h.db.Usage().Series(ctx, uq)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v.Totals = usageTotals(total)
	layout := chartLayout(uq.Step)
	starts := make([]time.Time, len(series))
	var ok, cache, failed, cancelled, charged, cached, p50, p99, t50, t99, c4, c5 []float64
	for i, b := range series {
		starts[i] = b.Start
		ok = append(ok, float64(b.Served-b.Errors))
		cache = append(cache, float64(b.CacheHits))
		failed = append(failed, float64(b.Errors))
		cancelled = append(cancelled, float64(b.Cancelled))
		c4, c5 = append(c4, float64(b.ClientErrors)), append(c5, float64(b.ServerErrors()))
		charged = append(charged, float64(b.UpstreamIn+b.UpstreamOut))
		cached = append(cached, float64(b.CacheTokensIn+b.CacheTokensOut))
		l50, l99, f50, f99 := -1.0, -1.0, -1.0, -1.0 // no request: a gap in the lines
		if b.Served > 0 {
			l50, l99 = b.LatencyP(50), b.LatencyP(99)
		}
		if b.TTFTN > 0 {
			f50, f99 = b.TTFTP(50), b.TTFTP(99)
		}
		p50, p99, t50, t99 = append(p50, l50), append(p99, l99), append(t50, f50), append(t99, f99)
	}
	per := "per " + v.Step
	v.Requests = newSeriesChart("Requests "+per, "requests", starts, layout,
		Series{Name: "served by vLLM", Class: "s1", Values: ok}, Series{Name: "cache hits", Class: "s2", Values: cache},
		Series{Name: "failed", Class: "s3", Values: failed}, Series{Name: "cancelled by the client", Class: "s4", Values: cancelled})
	v.Tokens = newSeriesChart("Tokens "+per, "tokens", starts, layout,
		Series{Name: "charged (vLLM, in + out)", Class: "s1", Values: charged},
		Series{Name: "served from the cache (in + out)", Class: "s2", Values: cached})
	v.Failures = newSeriesChart("Failures and cancels "+per, "requests", starts, layout,
		Series{Name: "client errors (4xx)", Class: "s4", Values: c4}, Series{Name: "server errors (5xx)", Class: "s3", Values: c5},
		Series{Name: "cancelled by the client", Class: "s2", Values: cancelled})
	v.Latency = newSeriesChart("Latency and TTFT of requests served by vLLM, "+per, "ms", starts, layout,
		Series{Name: "latency p50", Class: "s1", Values: p50, Line: true}, Series{Name: "latency p99", Class: "s3", Values: p99, Line: true},
		Series{Name: "TTFT p50", Class: "s2", Values: t50, Line: true}, Series{Name: "TTFT p99", Class: "s4", Values: t99, Line: true})
	if v.Completions, err = h.completions(ctx, r, uq, layout); err != nil {
		h.fail(w, r, err)
		return
	}

	for _, by := range []string{"adapter", "route"} {
		groups, err := h.db.Usage().Top(ctx, uq, by, 0)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, g := range groups {
			name := g.Adapter
			if by == "route" {
				name = g.Route
			}
			row := UsageGroupRow{Name: name, Totals: usageTotals(g.UsageStats)}
			q := r.URL.Query()
			q.Set(by, name)
			row.URL = "/admin/usage?" + q.Encode()
			if by == "adapter" {
				v.ByAdapter = append(v.ByAdapter, row)
			} else {
				v.ByRoute = append(v.ByRoute, row)
			}
		}
	}
	if uq.KeyID == 0 {
		if v.TopKeys, err = h.usageTop(ctx, r, uq, "key"); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if uq.KeyID == 0 && uq.UserID == 0 {
		if v.TopUsers, err = h.usageTop(ctx, r, uq, "user"); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	if v.Adapters, err = h.db.Usage().Values(ctx, "adapter", uq.Since.AddDate(0, 0, -30)); err != nil {
		h.fail(w, r, err)
		return
	}
	if v.Routes, err = h.db.Usage().Values(ctx, "route", uq.Since.AddDate(0, 0, -30)); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := h.usageLabels(ctx, uq, &v); err != nil {
		h.fail(w, r, err)
		return
	}
	csvq := r.URL.Query()
	for _, g := range []string{"time", "key", "user", "adapter", "route"} {
		csvq.Set("group", g)
		v.CSV = append(v.CSV, UsageLink{Name: g, URL: "/admin/usage.csv?" + csvq.Encode()})
	}
	h.render(w, r, http.StatusOK, UsagePage(h.chrome(r, "usage", "Usage"), v))
}

// usageTop is the top keys or users, named.
func (h *Handler) usageTop(ctx context.Context, r *http.Request, uq store.UsageQuery, by string) ([]UsageGroupRow, error) {
	groups, err := h.db.Usage().Top(ctx, uq, by, usageTopN)
	if err != nil {
		return nil, err
	}
	var ids []int64
	for _, g := range groups {
		ids = append(ids, g.KeyID+g.UserID)
	}
	var keys map[int64]store.KeyLabel
	var users map[int64]string
	if by == "key" {
		keys, err = h.db.APIKeys().Labels(ctx, ids)
	} else {
		users, err = h.db.Users().Emails(ctx, ids)
	}
	if err != nil {
		return nil, err
	}
	var out []UsageGroupRow
	for _, g := range groups {
		row := UsageGroupRow{Totals: usageTotals(g.UsageStats)}
		q := r.URL.Query()
		switch {
		case by == "key" && g.KeyID == 0:
			row.Name = "no key (JWT)"
		case by == "key":
			row.Name, row.PageURL = "key "+itoa(g.KeyID)+" (deleted)", "/admin/keys/"+itoa(g.KeyID)
			if k, ok := keys[g.KeyID]; ok {
				row.Name = k.Prefix + "… " + k.Owner
			}
			q.Set("key", itoa(g.KeyID))
			row.URL = "/admin/usage?" + q.Encode()
		case g.UserID == 0:
			row.Name = "no user"
		default:
			row.Name, row.PageURL = "user "+itoa(g.UserID)+" (deleted)", "/admin/users/"+itoa(g.UserID)
			if e, ok := users[g.UserID]; ok {
				row.Name = e
			}
			q.Set("user", itoa(g.UserID))
			row.URL = "/admin/usage?" + q.Encode()
		}
		out = append(out, row)
	}
	return out, nil
}

// usageLabels names the filtered key and user.
func (h *Handler) usageLabels(ctx context.Context, uq store.UsageQuery, v *UsageView) error {
	if uq.KeyID > 0 {
		keys, err := h.db.APIKeys().Labels(ctx, []int64{uq.KeyID})
		if err != nil {
			return err
		}
		v.KeyLabel = "key " + itoa(uq.KeyID)
		if k, ok := keys[uq.KeyID]; ok {
			v.KeyLabel = k.Prefix + "… of " + k.Owner
		}
	}
	if uq.UserID > 0 {
		users, err := h.db.Users().Emails(ctx, []int64{uq.UserID})
		if err != nil {
			return err
		}
		v.UserLabel = users[uq.UserID]
	}
	return nil
}

// usageTotals formats a sum for the page.
func usageTotals(u store.UsageStats) UsageTotals {
	t := UsageTotals{Requests: u.Requests, Served: u.Served, Errors: u.Errors, ClientErrors: u.ClientErrors,
		ServerErrors: u.ServerErrors(), Cancelled: u.Cancelled, CacheHits: u.CacheHits, Coalesced: u.Coalesced,
		TokensIn: u.TokensIn, TokensOut: u.TokensOut, UpstreamIn: u.UpstreamIn, UpstreamOut: u.UpstreamOut,
		CacheTokens: u.CacheTokensIn + u.CacheTokensOut, HasHist: u.Served > 0 && slices.ContainsFunc(u.Hist[:], func(n int64) bool { return n > 0 }),
		ErrorRate: "–", CacheRate: "–", CancelRate: "–"}
	if u.Requests > 0 {
		t.ErrorRate = pct(float64(u.Errors) / float64(u.Requests))
		t.CacheRate = pct(float64(u.CacheHits) / float64(u.Requests))
		t.CancelRate = pct(float64(u.Cancelled) / float64(u.Requests))
	}
	t.LatencyP50, t.LatencyP99, t.TTFTP50, t.TTFTP99 = ms(u.LatencyP(50)), ms(u.LatencyP(99)), ms(u.TTFTP(50)), ms(u.TTFTP(99))
	t.LatencyAvg, t.CacheLatency = ms(u.AvgLatency()), ms(u.CacheAvgLatency())
	return t
}

// usageCSV exports the page's usage grouped by time (one row per step), key, user,
// adapter or route.
func (h *Handler) usageCSV(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	uq, v := h.usageQuery(ctx, r.URL.Query())
	group := r.URL.Query().Get("group")
	type line struct {
		name []string
		u    store.UsageStats
	}
	var lines []line
	var head []string
	switch group {
	case "", "time":
		group, head = "time", []string{"start"}
		_, series, err := h.db.Usage().Series(ctx, uq)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, b := range series {
			lines = append(lines, line{[]string{b.Start.UTC().Format(time.RFC3339)}, b.UsageStats})
		}
	case "key", "user", "adapter", "route":
		groups, err := h.db.Usage().Top(ctx, uq, group, 0)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		head = map[string][]string{"key": {"key_id"}, "user": {"user_id"}, "adapter": {"adapter"}, "route": {"route"}}[group]
		for _, g := range groups {
			name := map[string]string{"key": itoa(g.KeyID), "user": itoa(g.UserID), "adapter": g.Adapter, "route": g.Route}[group]
			lines = append(lines, line{[]string{name}, g.UsageStats})
		}
	default:
		h.badRequest(w, r, "group is one of time, key, user, adapter, route.")
		return
	}
	w.Header().Set("Content-Type", "text/csv; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="hapa-usage-`+v.Period+`-by-`+group+`.csv"`)
	cw := csv.NewWriter(w)
	_ = cw.Write(append(head, "requests", "errors", "client_errors", "server_errors", "cancelled", "cache_hits", "coalesced",
		"tokens_in", "tokens_out", "upstream_tokens_in", "upstream_tokens_out", "cache_tokens_in", "cache_tokens_out",
		"served", "latency_p50_ms", "latency_p99_ms", "ttft_p50_ms", "ttft_p99_ms"))
	i := func(n int64) string { return strconv.FormatInt(n, 10) }
	f := func(x float64, ok bool) string {
		if !ok {
			return ""
		}
		return strconv.FormatFloat(x, 'f', 1, 64)
	}
	for _, l := range lines {
		u := l.u
		hist := group != "key" && group != "user" && u.Served > 0 // no buckets per key or user over days
		_ = cw.Write(append(l.name, i(u.Requests), i(u.Errors), i(u.ClientErrors), i(u.ServerErrors()), i(u.Cancelled),
			i(u.CacheHits), i(u.Coalesced), i(u.TokensIn), i(u.TokensOut), i(u.UpstreamIn), i(u.UpstreamOut),
			i(u.CacheTokensIn), i(u.CacheTokensOut), i(u.Served), f(u.LatencyP(50), hist), f(u.LatencyP(99), hist),
			f(u.TTFTP(50), hist), f(u.TTFTP(99), hist)))
	}
	cw.Flush()
}
