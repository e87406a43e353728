package web

import (
	"context"
	"net/http"
	"sort"
	"time"
)

// Upstream is what the code information routes (/code/models, /code/health) read about
// the model servers. web does not import vllm (docs/architecture.md): cmd/hapa adapts
// *vllm.Pool and the engine's task → adapter table to it, for instance with
// UpstreamFunc.
type Upstream interface {
	UpstreamStatus(ctx context.Context) UpstreamStatus
}

// UpstreamFunc adapts a function to Upstream.
type UpstreamFunc func(ctx context.Context) UpstreamStatus

// UpstreamStatus implements Upstream.
func (f UpstreamFunc) UpstreamStatus(ctx context.Context) UpstreamStatus { return f(ctx) }

// UpstreamStatus is a snapshot of the model servers.
type UpstreamStatus struct {
	Healthy   bool              // at least one replica takes requests
	Simulator bool              // the built-in simulator serves the model
	BaseModel string            // the base model's id
	Models    []string          // served model ids (GET /v1/models over the replicas), base first
	ModelsErr error             // why Models is empty, when listing failed
	Adapters  map[string]string // HAPA model_type → LoRA adapter
	Replicas  []ReplicaStatus
}

// ReplicaStatus is one vLLM replica.
type ReplicaStatus struct {
	URL                 string    `json:"url"`
	Healthy             bool      `json:"healthy"`
	Circuit             string    `json:"circuit"`
	InFlight            int       `json:"in_flight"`
	Requests            int64     `json:"requests"`
	Failures            int64     `json:"failures"`
	ConsecutiveFailures int       `json:"consecutive_failures"`
	LastError           string    `json:"last_error,omitempty"`
	LastErrorAt         time.Time `json:"last_error_at,omitzero"`
}

// upstreamTimeout bounds one status snapshot (it may list models on every replica).
const upstreamTimeout = 3 * time.Second

// upstreamStatus takes a snapshot from up; ok is false when none is wired.
func (s *Server) upstreamStatus(r *http.Request, up Upstream) (UpstreamStatus, bool) {
	if up == nil {
		return UpstreamStatus{}, false
	}
	ctx, cancel := context.WithTimeout(r.Context(), upstreamTimeout)
	defer cancel()
	return up.UpstreamStatus(ctx), true
}

// adapterDescriptions describe the four adapters (docs/compatibility.md, "The four
// adapters").
var adapterDescriptions = map[string]string{
	"autocomplete": "Inline code completion (fill-in-the-middle)",
	"prompt":       "Code generation from a natural-language request",
	"comment":      "Code explanation, review and documentation",
	"error_fix":    "Bug fixing",
}

// modelMapping groups the HAPA model_types by adapter, for /code/models.
func modelMapping(adapters map[string]string) map[string]modelMappingEntry {
	out := map[string]modelMappingEntry{}
	for task, ad := range adapters {
		e := out[ad]
		e.HAPATypes = append(e.HAPATypes, task)
		e.Description = adapterDescriptions[ad]
		out[ad] = e
	}
	for ad, e := range out {
		sort.Strings(e.HAPATypes)
		out[ad] = e
	}
	return out
}

type modelMappingEntry struct {
	HAPATypes   []string `json:"hapa_types"`
	Description string   `json:"description"`
}

// upstreamState is "healthy", "unhealthy", or "not_configured".
func upstreamState(st UpstreamStatus, ok bool) string {
	switch {
	case !ok:
		return "not_configured"
	case st.Healthy:
		return "healthy"
	}
	return "unhealthy"
}
