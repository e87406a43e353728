package admin

import (
	"net/http"
	"time"

	"github.com/hapa-project/hapa/vllm"
)

// upstreamWindow is the request-log window of the upstreams page's figures.
const upstreamWindow = time.Hour

func (h *Handler) upstreamsPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	v := UpstreamsView{Connected: h.deps.Upstreams != nil, Switchable: h.upstreamAdmin() != nil, Replica: h.cfg.Replica}
	c := h.chrome(r, "upstreams", "Upstreams")
	c.Flash = flashFor(r)
	if !v.Connected {
		h.render(w, r, http.StatusOK, UpstreamsPage(c, v))
		return
	}
	v.Simulated = h.deps.Upstreams.Simulated()
	stats, err := h.db.RequestLog().ByUpstream(ctx, h.now().Add(-upstreamWindow))
	if err != nil {
		h.fail(w, r, err)
		return
	}
	states, err := h.db.UpstreamStates().All(ctx)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	for _, rs := range h.deps.Upstreams.Replicas() {
		row := replicaRow(rs)
		if st, ok := states[rs.URL]; ok {
			row.AdminBy, row.AdminAt = st.UpdatedBy, &st.UpdatedAt
		}
		for _, s := range stats {
			if s.Upstream == rs.URL {
				row.Hour = &ReplicaHour{Requests: s.Requests, Errors: s.Errors, Cancelled: s.Cancelled,
					LatencyP50: ms(s.P50LatencyMs), LatencyP99: ms(s.P99LatencyMs), TTFTP50: ms(s.P50TTFTMs), TTFTP99: ms(s.P99TTFTMs),
					ErrorRate: pct(float64(s.Errors) / float64(max(s.Requests, 1)))}
			}
		}
		v.Replicas = append(v.Replicas, row)
	}
	h.render(w, r, http.StatusOK, UpstreamsPage(c, v))
}

// replicaRow is the view of one replica.
func replicaRow(rs vllm.ReplicaState) ReplicaRow {
	row := ReplicaRow{
		URL: rs.URL, Healthy: rs.Healthy, Circuit: string(rs.Circuit), InFlight: rs.InFlight,
		Adapters: rs.Adapters, Models: rs.Models, LastError: rs.LastError,
		Requests: rs.Requests, Failures: rs.Failures, Consecutive: rs.ConsecutiveFailures, Admin: string(rs.Admin),
	}
	if row.Admin == "" {
		row.Admin = string(vllm.AdminActive)
	}
	if !rs.LastErrorAt.IsZero() {
		t := rs.LastErrorAt
		row.LastErrorAt = &t
	}
	switch {
	case rs.Admin == vllm.AdminDisabled:
		row.Health, row.HealthKind = "disabled", "muted"
	case rs.Admin == vllm.AdminDraining && rs.InFlight > 0:
		row.Health, row.HealthKind = "draining", "warn"
	case rs.Admin == vllm.AdminDraining:
		row.Health, row.HealthKind = "drained", "muted"
	case !rs.Healthy:
		row.Health, row.HealthKind = "down", "bad"
	case rs.Circuit == vllm.CircuitOpen:
		row.Health, row.HealthKind = "ejected", "bad"
	case rs.Circuit == vllm.CircuitHalfOpen:
		row.Health, row.HealthKind = "probing", "warn"
	default:
		row.Health, row.HealthKind = "healthy", "ok"
	}
	return row
}
