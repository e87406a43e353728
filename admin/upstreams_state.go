package admin

import (
	"context"
	"net/http"
	"slices"
	"time"

	"github.com/hapa-project/hapa/vllm"
)

// UpstreamAdmin is the pool's admin-state switch (*vllm.Pool implements it). When the
// console's Upstreams view implements it, the upstreams page drains, disables and
// enables replicas.
type UpstreamAdmin interface {
	SetAdminState(url string, s vllm.AdminState) error
}

// upstreamSyncEvery is how often SyncUpstreams re-reads the shared states.
const upstreamSyncEvery = 5 * time.Second

// upstreamAdmin returns the pool's switch, or nil.
func (h *Handler) upstreamAdmin() UpstreamAdmin {
	a, _ := h.deps.Upstreams.(UpstreamAdmin)
	return a
}

// upstreamState sets a replica's admin state: recorded in upstream_states, which every
// gateway replica applies (SyncUpstreams), and applied to this replica's pool at once.
// A change that would leave no active replica asks first.
func (h *Handler) upstreamState(w http.ResponseWriter, r *http.Request) {
	sw := h.upstreamAdmin()
	if sw == nil {
		h.notFound(w, r, "The vLLM pool is not connected to the console.")
		return
	}
	url := r.PostFormValue("url")
	state, ok := vllm.ParseAdminState(r.PostFormValue("state"))
	replicas := h.deps.Upstreams.Replicas()
	i := slices.IndexFunc(replicas, func(rs vllm.ReplicaState) bool { return rs.URL == url })
	if !ok || i < 0 {
		h.badRequest(w, r, "Unknown replica or state.")
		return
	}
	if state != vllm.AdminActive && r.PostFormValue("confirm") != "yes" {
		active := 0
		for j, rs := range replicas {
			if j != i && rs.Admin == vllm.AdminActive {
				active++
			}
		}
		if active == 0 {
			h.render(w, r, http.StatusOK, UpstreamConfirmPage(h.chrome(r, "upstreams", "Take the last replica out?"),
				UpstreamConfirmView{URL: url, State: string(state)}))
			return
		}
	}
	ctx := r.Context()
	if err := h.db.UpstreamStates().Set(ctx, url, string(state), sessionFrom(ctx).User.Email); err != nil {
		h.fail(w, r, err)
		return
	}
	if err := sw.SetAdminState(url, state); err != nil {
		h.fail(w, r, err)
		return
	}
	h.log.Info("admin: upstream state", "replica", url, "state", state, "by", sessionFrom(ctx).User.Email)
	h.audit(r, actUpstreamState, "upstream:"+url, string(replicas[i].Admin)+" → "+string(state))
	http.Redirect(w, r, "/admin/upstreams?done=upstream", http.StatusSeeOther)
}

// SyncUpstreams applies the admin states recorded in upstream_states to this replica's
// pool at once and then every 5 s until ctx ends, so a drain set on one gateway
// replica reaches all of them, also after a restart. A replica with no recorded state
// is active. Read errors are logged and retried.
func (h *Handler) SyncUpstreams(ctx context.Context) error {
	sw := h.upstreamAdmin()
	if sw == nil {
		return nil
	}
	t := time.NewTicker(upstreamSyncEvery)
	defer t.Stop()
	for {
		h.applyUpstreamStates(ctx, sw)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (h *Handler) applyUpstreamStates(ctx context.Context, sw UpstreamAdmin) {
	states, err := h.db.UpstreamStates().All(ctx)
	if err != nil {
		if ctx.Err() == nil {
			h.log.Warn("admin: upstream states not read; retrying", "err", err)
		}
		return
	}
	for _, rs := range h.deps.Upstreams.Replicas() {
		want := vllm.AdminActive
		if st, ok := states[rs.URL]; ok {
			want, _ = vllm.ParseAdminState(st.State)
		}
		if want != "" && want != rs.Admin {
			if err := sw.SetAdminState(rs.URL, want); err == nil {
				h.log.Info("admin: upstream state applied", "replica", rs.URL, "state", want)
			}
		}
	}
}
