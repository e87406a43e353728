package admin

import (
	"net/http"
	"time"
)

// liveWindow is the window the overview's rates are computed over.
const liveWindow = 5 * time.Minute

func (h *Handler) overview(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, OverviewPage(h.chrome(r, "overview", "Overview"), h.liveView(r)))
}

// overviewLive is the fragment htmx polls every 5 s.
func (h *Handler) overviewLive(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusOK, overviewLive(h.liveView(r)))
}

// liveView computes the overview's figures: rates over the last five minutes of the
// request log (shared by every replica), this replica's sockets and streams (its hub's,
// labelled with Config.Replica), the upstream replicas' health as this replica sees it,
// and requests per minute over the last hour.
func (h *Handler) liveView(r *http.Request) LiveView {
	ctx := r.Context()
	now := h.now()
	v := LiveView{UpdatedAt: now, Sockets: "–", Streams: "–", Replica: h.cfg.Replica}
	if h.deps.Realtime != nil {
		st := h.deps.Realtime.Stats()
		v.Sockets, v.Streams = itoa(st.Sessions), itoa(st.Streams)
	}
	if h.deps.Upstreams != nil {
		for _, rs := range h.deps.Upstreams.Replicas() {
			v.Replicas = append(v.Replicas, replicaRow(rs))
		}
	}
	if h.deps.Usage == nil {
		v.Unavailable = "The request log is not connected to the console."
		return v
	}
	s, err := h.deps.Usage.Summary(ctx, UsageFilter{Since: now.Add(-liveWindow)})
	if err != nil {
		h.log.Warn("admin: usage summary", "err", err)
		v.Unavailable = "The request log could not be read."
		return v
	}
	mins := liveWindow.Minutes()
	v.RequestsPerMin = ftoa(float64(s.Requests)/mins, 1)
	v.TokensPerSec = ftoa(float64(s.TokensOut)/liveWindow.Seconds(), 1)
	v.ErrorRate, v.CancelRate, v.CacheHitRate = "–", "–", "–"
	if s.Requests > 0 { // a cancel (the client left) is not an error
		v.ErrorRate = pct(float64(s.Errors) / float64(s.Requests))
		v.CancelRate = pct(float64(s.Cancelled) / float64(s.Requests))
		v.CacheHitRate = pct(float64(s.Cached) / float64(s.Requests))
	}
	v.LatencyP50, v.LatencyP99 = ms(s.LatencyP50), ms(s.LatencyP99)
	v.TTFTP50, v.TTFTP99 = ms(s.TTFTP50), ms(s.TTFTP99)
	v.CacheLatency = ms(s.CacheLatency)
	series, err := h.deps.Usage.Series(ctx, now.Add(-time.Hour), time.Minute)
	if err != nil {
		h.log.Warn("admin: usage series", "err", err)
	}
	v.Chart = newBarChart("Requests per minute, last hour", series, false, chartLayout(time.Minute))
	return v
}
