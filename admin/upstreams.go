package admin

import (
	"net/http"

	"github.com/hapa-project/hapa/vllm"
)

func (h *Handler) upstreamsPage(w http.ResponseWriter, r *http.Request) {
	v := UpstreamsView{Connected: h.deps.Upstreams != nil}
	if v.Connected {
		v.Simulated = h.deps.Upstreams.Simulated()
		for _, rs := range h.deps.Upstreams.Replicas() {
			v.Replicas = append(v.Replicas, replicaRow(rs))
		}
	}
	h.render(w, r, http.StatusOK, UpstreamsPage(h.chrome(r, "upstreams", "Upstreams"), v))
}

// replicaRow is the view of one replica.
func replicaRow(rs vllm.ReplicaState) ReplicaRow {
	row := ReplicaRow{
		URL: rs.URL, Healthy: rs.Healthy, Circuit: string(rs.Circuit), InFlight: rs.InFlight,
		Adapters: rs.Adapters, Models: rs.Models, LastError: rs.LastError,
		Requests: rs.Requests, Failures: rs.Failures, Consecutive: rs.ConsecutiveFailures,
	}
	if !rs.LastErrorAt.IsZero() {
		t := rs.LastErrorAt
		row.LastErrorAt = &t
	}
	switch {
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
