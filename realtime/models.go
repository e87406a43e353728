package realtime

import (
	"maps"
	"slices"

	"github.com/hapa-project/hapa/vllm"
)

// ModelCatalog is what the engine serves by name, for transports that let callers pick
// a model (the OpenAI-compatible routes): the base model and the task → adapter table.
type ModelCatalog struct {
	BaseModel string            // EngineConfig.BaseModel; "" when not configured
	Tasks     map[string]string // HAPA model_type → LoRA adapter (a fresh copy)
	// CompletionLanguages are the canonical names of the languages completions accept
	// (docs/api.md, "Programming languages").
	CompletionLanguages []string
}

// Adapters returns the distinct adapter names of the task table, sorted.
func (c ModelCatalog) Adapters() []string {
	out := slices.Collect(maps.Values(c.Tasks))
	slices.Sort(out)
	return slices.Compact(out)
}

// Models returns the engine's model catalogue.
func (e *Engine) Models() ModelCatalog {
	return ModelCatalog{BaseModel: e.cfg.BaseModel, Tasks: maps.Clone(e.adapters), CompletionLanguages: slices.Clone(e.cfg.Languages)}
}

// Message is one chat message of Request.Messages. It is vllm's type, named here so
// that transports (web) build chat requests without importing vllm (docs/architecture.md).
type Message = vllm.Message
