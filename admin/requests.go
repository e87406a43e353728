package admin

import (
	"context"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/hapa-project/hapa/store"
)

// requestsPerPage is the page size of the request log.
const requestsPerPage = 50

// requestRanges are the request log's time ranges; "all" is the whole table (which
// keeps REQUEST_LOG_RETENTION_DAYS).
var requestRanges = []struct {
	Name string
	Span time.Duration
}{{"1h", time.Hour}, {"24h", 24 * time.Hour}, {"7d", 7 * 24 * time.Hour}, {"30d", 30 * 24 * time.Hour}, {"all", 0}}

// requestClasses are the status-class filter's choices ("" = any).
var requestClasses = []string{"", store.RequestsOK, store.RequestsFailed, store.Requests4xx, store.Requests5xx, store.RequestsCancelled}

// localLayout is the value of <input type="datetime-local">, read as UTC.
const localLayout = "2006-01-02T15:04"

// requestsPage is the request log: every engine request, filtered, newest first, in
// keyset pages.
func (h *Handler) requestsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	f, v := h.requestFilter(ctx, r.URL.Query())
	f.Limit = requestsPerPage + 1
	rows, err := h.db.RequestLog().List(ctx, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if len(rows) > requestsPerPage {
		rows = rows[:requestsPerPage]
		last := rows[len(rows)-1]
		q := r.URL.Query()
		q.Set("before", store.Cursor{At: last.CreatedAt, ID: last.ID}.String())
		v.NextURL = "/admin/requests?" + q.Encode()
	}
	if !f.Before.IsZero() {
		q := r.URL.Query()
		q.Del("before")
		v.FirstURL = "/admin/requests?" + q.Encode()
	}
	if v.Rows, err = h.requestRows(ctx, rows); err != nil {
		h.fail(w, r, err)
		return
	}
	h.render(w, r, http.StatusOK, RequestsPage(h.chrome(r, "requests", "Request log"), v))
}

// requestFilter reads the request log's query; values it cannot use are listed in the
// view's Problems and ignored.
func (h *Handler) requestFilter(ctx context.Context, q url.Values) (store.RequestFilter, RequestsView) {
	v := RequestsView{Range: q.Get("range"), From: q.Get("from"), To: q.Get("to"), Key: q.Get("key"), User: q.Get("user"),
		Route: q.Get("route"), Adapter: q.Get("adapter"), Upstream: q.Get("upstream"), Class: q.Get("class"),
		Status: q.Get("status"), Code: strings.ToUpper(strings.TrimSpace(q.Get("code"))), Cached: q.Get("cached"),
		Coalesced: q.Get("coalesced"), RequestID: strings.TrimSpace(q.Get("request_id")), Classes: requestClasses}
	for _, rr := range requestRanges {
		v.Ranges = append(v.Ranges, rr.Name)
	}
	var f store.RequestFilter
	now := h.now()
	if !slices.Contains(v.Ranges, v.Range) {
		v.Range = "24h"
	}
	for _, rr := range requestRanges {
		if rr.Name == v.Range && rr.Span > 0 {
			f.Since = now.Add(-rr.Span)
		}
	}
	if v.From != "" {
		if t, err := time.Parse(localLayout, v.From); err == nil {
			f.Since = t
		} else {
			v.Problems = append(v.Problems, "“From” is not a date and time.")
		}
	}
	if v.To != "" {
		if t, err := time.Parse(localLayout, v.To); err == nil {
			f.Until = t
		} else {
			v.Problems = append(v.Problems, "“To” is not a date and time.")
		}
	}
	f.KeyID, f.UserID = h.keyUserFilter(ctx, v.Key, v.User, &v.Problems)
	f.Route, f.Adapter, f.Upstream = strings.TrimSpace(v.Route), strings.TrimSpace(v.Adapter), strings.TrimSpace(v.Upstream)
	if !slices.Contains(requestClasses, v.Class) {
		v.Class = ""
	}
	f.Class = v.Class
	if v.Status != "" {
		if n, err := strconv.Atoi(v.Status); err == nil && n >= 100 && n <= 599 {
			f.Status = n
		} else {
			v.Problems = append(v.Problems, "The status is an HTTP status code (100–599).")
		}
	}
	f.ErrorCode, f.RequestID = v.Code, v.RequestID
	f.Cached, v.Cached = triState(v.Cached)
	f.Coalesced, v.Coalesced = triState(v.Coalesced)
	f.Before, _ = store.ParseCursor(q.Get("before"))
	return f, v
}

// triState reads a yes/no/any select.
func triState(s string) (*bool, string) {
	switch s {
	case "yes":
		t := true
		return &t, s
	case "no":
		f := false
		return &f, s
	}
	return nil, ""
}

// requestRows names the rows' keys and users.
func (h *Handler) requestRows(ctx context.Context, rows []store.RequestLogRow) ([]RequestRow, error) {
	var keyIDs, userIDs []int64
	for _, r := range rows {
		if r.KeyID != nil {
			keyIDs = append(keyIDs, *r.KeyID)
		}
		if r.UserID != nil {
			userIDs = append(userIDs, *r.UserID)
		}
	}
	keys, err := h.db.APIKeys().Labels(ctx, keyIDs)
	if err != nil {
		return nil, err
	}
	users, err := h.db.Users().Emails(ctx, userIDs)
	if err != nil {
		return nil, err
	}
	out := make([]RequestRow, 0, len(rows))
	for _, r := range rows {
		row := RequestRow{ID: r.ID, At: r.CreatedAt, RequestID: r.RequestID, Route: r.Route, Kind: r.Kind, Adapter: r.Adapter,
			Upstream: r.Upstream, Status: r.Status, ErrorCode: r.ErrorCode, TTFT: r.TTFTMs, Latency: r.LatencyMs,
			TokensIn: r.TokensIn, TokensOut: r.TokensOut, UpstreamIn: r.UpstreamIn, UpstreamOut: r.UpstreamOut,
			Cached: r.Cached, Coalesced: r.Coalesced, StatusKind: statusPill(r)}
		if r.KeyID != nil {
			row.KeyID = *r.KeyID
			row.KeyLabel = "key " + itoa(row.KeyID) + " (deleted)"
			if k, ok := keys[row.KeyID]; ok {
				row.KeyLabel = k.Prefix + "…"
			}
		}
		if r.UserID != nil {
			row.UserID = *r.UserID
			row.UserLabel = "user " + itoa(row.UserID) + " (deleted)"
			if e, ok := users[row.UserID]; ok {
				row.UserLabel = e
			}
		}
		out = append(out, row)
	}
	return out, nil
}

// statusPill is the pill kind of a row's status.
func statusPill(r store.RequestLogRow) string {
	switch {
	case r.Cancelled():
		return "muted"
	case r.Failed() && r.Status >= 500:
		return "bad"
	case r.Failed():
		return "warn"
	}
	return "ok"
}

// requestPage is one request-log row with every column, and what it links to: its
// key, user, replica, incidents and the other rows of its request id.
func (h *Handler) requestPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.notFound(w, r, "There is no such request-log row.")
		return
	}
	row, err := h.db.RequestLog().ByID(ctx, id)
	if isNotFound(err) {
		h.notFound(w, r, "There is no such request-log row. Rows are kept for REQUEST_LOG_RETENTION_DAYS days.")
		return
	}
	if err != nil {
		h.fail(w, r, err)
		return
	}
	rows, err := h.requestRows(ctx, []store.RequestLogRow{row})
	if err != nil {
		h.fail(w, r, err)
		return
	}
	v := RequestView{Row: rows[0]}
	if row.RequestID != "" {
		siblings, err := h.db.RequestLog().ByRequestID(ctx, row.RequestID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		siblings = slices.DeleteFunc(siblings, func(s store.RequestLogRow) bool { return s.ID == row.ID })
		if v.Siblings, err = h.requestRows(ctx, siblings); err != nil {
			h.fail(w, r, err)
			return
		}
		incs, err := h.db.Incidents().ByRequestID(ctx, row.RequestID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, in := range incs {
			v.Incidents = append(v.Incidents, incidentView(in))
		}
	}
	h.render(w, r, http.StatusOK, RequestPage(h.chrome(r, "requests", "Request "+row.RequestID), v))
}
