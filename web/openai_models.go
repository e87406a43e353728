package web

import (
	"net/http"
	"slices"

	"github.com/hapa-project/hapa/realtime"
)

// OpenAI model names. A caller names the base model, one of the LoRA adapters
// (autocomplete, prompt, comment, error_fix, or any adapter of the configured task
// table), or a friendly alias of a HAPA task, which resolves through the engine's task
// table to that task's adapter.

// openAIAliases maps each alias to the HAPA task (model_type) whose adapter serves it.
var openAIAliases = []struct{ alias, task string }{
	{"hapa-completion", realtime.TaskCompletion},
	{"hapa-generate", realtime.TaskGeneration},
	{"hapa-explain", "code_explanation"},
	{"hapa-review", "code_review"},
	{"hapa-docs", "documentation"},
	{"hapa-fix", "bug_fix"},
	{"hapa-optimize", "code_optimization"},
	{"hapa-tests", "unit_test_generation"},
}

// defaultTasks is the task table used when the engine cannot report its own (a
// realtime.Starter other than *realtime.Engine): the defaults of docs/compatibility.md,
// "Request body".
var defaultTasks = map[string]string{
	"code_completion": "autocomplete", "code_generation": "prompt", "code_optimization": "prompt",
	"unit_test_generation": "prompt", "code_explanation": "comment", "code_review": "comment",
	"documentation": "comment", "bug_fix": "error_fix",
}

// modelCataloger is implemented by *realtime.Engine.
type modelCataloger interface {
	Models() realtime.ModelCatalog
}

// openAIModel is one model a caller may name.
type openAIModel struct {
	ID      string
	Adapter string // the upstream model: the adapter, or the base model itself
	Task    string // the alias's task; "" for the base model and adapters
	Base    bool
}

// openAICatalog is the current model catalogue.
func (s *Server) openAICatalog() realtime.ModelCatalog {
	if m, ok := s.deps.Engine.(modelCataloger); ok {
		return m.Models()
	}
	return realtime.ModelCatalog{Tasks: defaultTasks}
}

// openAIModels lists every model: the base model (when configured), the adapters, the
// aliases.
func openAIModels(c realtime.ModelCatalog) []openAIModel {
	var out []openAIModel
	if c.BaseModel != "" {
		out = append(out, openAIModel{ID: c.BaseModel, Adapter: c.BaseModel, Base: true})
	}
	for _, a := range c.Adapters() {
		out = append(out, openAIModel{ID: a, Adapter: a})
	}
	for _, al := range openAIAliases {
		if a, ok := c.Tasks[al.task]; ok {
			out = append(out, openAIModel{ID: al.alias, Adapter: a, Task: al.task})
		}
	}
	return out
}

// resolveOpenAIModel finds the model a request names. An empty name is the base
// model (as in vLLM, which serves its one model when none is named); without a
// configured base model the name goes upstream unchanged, and vLLM decides (its 404
// becomes E4011 too). Unknown names are E4011 before anything is sent upstream.
func resolveOpenAIModel(c realtime.ModelCatalog, name string) (openAIModel, *realtime.Error) {
	if name == "" {
		return openAIModel{Adapter: c.BaseModel, Base: true}, nil
	}
	ms := openAIModels(c)
	if i := slices.IndexFunc(ms, func(m openAIModel) bool { return m.ID == name }); i >= 0 {
		return ms[i], nil
	}
	if c.BaseModel == "" {
		return openAIModel{ID: name, Adapter: name}, nil
	}
	return openAIModel{}, openAIModelNotFound(name)
}

// openAIModelNotFound is OpenAI's message for an unknown model.
func openAIModelNotFound(name string) *realtime.Error {
	return realtime.NewError(realtime.CodeNotFound, "The model `"+name+"` does not exist.")
}

// modelObject is one entry of GET /v1/models (OpenAI's shape; vLLM's parent/root).
type modelObject struct {
	ID      string  `json:"id"`
	Object  string  `json:"object"`
	Created int64   `json:"created"`
	OwnedBy string  `json:"owned_by"`
	Root    string  `json:"root,omitempty"`
	Parent  *string `json:"parent"`
}

type modelList struct {
	Object string        `json:"object"`
	Data   []modelObject `json:"data"`
}

// modelObjectOf describes m: adapters and aliases have the base model as parent; an
// alias's root is the adapter it resolves to.
func (s *Server) modelObjectOf(c realtime.ModelCatalog, m openAIModel) modelObject {
	o := modelObject{ID: m.ID, Object: "model", Created: s.started.Unix(), OwnedBy: "hapa", Root: m.Adapter}
	if !m.Base && c.BaseModel != "" {
		o.Parent = &c.BaseModel
	}
	return o
}

// handleOpenAIModels serves GET /v1/models.
func (s *Server) handleOpenAIModels(w http.ResponseWriter, r *http.Request) {
	c := s.openAICatalog()
	out := modelList{Object: "list", Data: []modelObject{}}
	for _, m := range openAIModels(c) {
		out.Data = append(out.Data, s.modelObjectOf(c, m))
	}
	writeJSON(w, http.StatusOK, out)
}

// handleOpenAIModel serves GET /v1/models/{id}. Base model ids contain slashes
// ("deepseek-ai/deepseek-coder-6.7b-instruct"), so the route's last segment is a
// {id...} wildcard.
func (s *Server) handleOpenAIModel(w http.ResponseWriter, r *http.Request) {
	c := s.openAICatalog()
	id := r.PathValue("id")
	for _, m := range openAIModels(c) {
		if m.ID == id {
			writeJSON(w, http.StatusOK, s.modelObjectOf(c, m))
			return
		}
	}
	s.writeOpenAIError(w, r, openAIModelNotFound(id))
}
