package web

import (
	"net/http"
	"strconv"
	"strings"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/realtime/limits"
)

// Field limits of the code routes (docs/compatibility.md, "Request body", "Completion",
// "Legacy routes"). The engine checks its own limits again (one place for language and
// the engine's bounds); these are the body-shape limits the original's request models
// enforced.
const (
	maxPromptChars       = 4000
	maxContextChars      = 8000
	maxPrefixChars       = 8000
	maxSuffixChars       = 4000
	maxProjectCtxChars   = 500
	maxQuestionChars     = 2000  // enhanced-stream-generate user_question
	maxLongQuestionChars = 10000 // generate-code user_question
	maxCodeContextChars  = 8000  // legacy code_context: the engine's context limit
	maxFilePathChars     = 1000
	maxTokensLimit       = 4096
)

// codeLimitGroups are the rate-limit groups of the code routes: one-shot generation,
// streaming, completion, and the default group for the information routes.
func codeLimitGroups() (generation, stream, completion, other string) {
	return limits.GroupGeneration, limits.GroupStream, limits.GroupCompletion, limits.GroupDefault
}

// codeGenerationRequest is the body of /code/generate and /code/generate/stream
// (docs/compatibility.md, "Request body"). Unknown fields are ignored. Pointers tell
// "absent" from zero.
type codeGenerationRequest struct {
	Prompt            *string           `json:"prompt"`
	ModelType         string            `json:"model_type"`
	Context           *string           `json:"context"` // null → ""
	Temperature       *float64          `json:"temperature"`
	TopP              *float64          `json:"top_p"`
	MaxTokens         *int              `json:"max_tokens"`
	ProgrammingLevel  string            `json:"programming_level"`
	ExplanationDetail string            `json:"explanation_detail"`
	CodeStyle         string            `json:"code_style"`
	IncludeComments   *bool             `json:"include_comments"`
	IncludeDocstring  *bool             `json:"include_docstring"`
	IncludeTypeHints  *bool             `json:"include_type_hints"`
	Language          string            `json:"language"`
	ProjectContext    string            `json:"project_context"`
	UserProfile       *realtime.Profile `json:"userProfile"`
	Profile           *realtime.Profile `json:"profile"`
	NoCache           bool              `json:"no_cache"`

	FilePath string `json:"file_path"` // the FIM path header of code_completion generations
	// ContextSnippets are neighbouring files or recent edits (docs/api.md, "Context
	// snippets"), packed into the prompt within the context budget.
	ContextSnippets []realtime.ContextSnippet `json:"context_snippets"`
}

// modelTypes are the eight model_type values (docs/compatibility.md, "Request body").
var modelTypes = []string{"code_completion", "code_generation", "code_explanation", "code_review",
	"bug_fix", "code_optimization", "unit_test_generation", "documentation"}

// validate checks the body against the contract's field limits.
func (b *codeGenerationRequest) validate() error {
	var v validator
	if v.required("prompt", b.Prompt != nil) && v.requiredString("prompt", *b.Prompt) {
		v.maxLen("prompt", *b.Prompt, maxPromptChars)
	}
	if b.Context != nil {
		v.maxLen("context", *b.Context, maxContextChars)
	}
	v.oneOf("model_type", b.ModelType, modelTypes...)
	checkSampling(&v, b.Temperature, b.TopP, b.MaxTokens)
	v.oneOf("programming_level", b.ProgrammingLevel, "beginner", "intermediate", "advanced", "expert")
	v.oneOf("explanation_detail", b.ExplanationDetail, "minimal", "standard", "detailed", "comprehensive")
	v.oneOf("code_style", b.CodeStyle, "clean", "performance", "readable", "pythonic")
	v.maxLen("project_context", b.ProjectContext, maxProjectCtxChars)
	v.maxLen("file_path", b.FilePath, maxFilePathChars)
	return v.err()
}

// checkSampling checks the optional sampling fields.
func checkSampling(v *validator, temp, topP *float64, maxTokens *int) {
	if temp != nil {
		v.floatRange("temperature", *temp, 0, 2)
	}
	if topP != nil {
		v.floatRange("top_p", *topP, 0, 1)
	}
	if maxTokens != nil {
		v.intRange("max_tokens", *maxTokens, 1, maxTokensLimit)
	}
}

// explanationStyles maps the legacy explanation_detail onto the profile's
// explanationStyle (codeOutputStructure takes the value as it is: same enum).
var explanationStyles = map[string]string{
	"minimal": "brief", "standard": "standard", "detailed": "detailed", "comprehensive": "educational",
}

// projectContexts are the profile's projectContext values (docs/compatibility.md,
// "Profile fields").
var projectContexts = []string{"web_development", "data_science", "automation", "general_purpose", "academic", "enterprise"}

// profile builds the per-request profile override. The legacy fields map onto the
// profile (programming_level → pythonSkillLevel; explanation_detail →
// codeOutputStructure and explanationStyle; a project_context that names a profile
// value → projectContext); an explicit userProfile/profile object wins field by field.
// nil when nothing was sent: the stored profile applies unchanged.
func (b *codeGenerationRequest) profile() *realtime.Profile {
	var p realtime.Profile
	set := false
	if b.ProgrammingLevel != "" {
		p.PythonSkillLevel, set = b.ProgrammingLevel, true
	}
	if b.ExplanationDetail != "" {
		p.CodeOutputStructure, p.ExplanationStyle, set = b.ExplanationDetail, explanationStyles[b.ExplanationDetail], true
	}
	if pc := strings.TrimSpace(b.ProjectContext); containsString(projectContexts, pc) {
		p.ProjectContext, set = pc, true
	}
	for _, o := range []*realtime.Profile{b.Profile, b.UserProfile} {
		if o != nil {
			p, set = realtime.MergeProfile(p, o), true
		}
	}
	if !set {
		return nil
	}
	return &p
}

// context returns the code context sent to the model. A free-text project_context
// (not a profile value) is kept as a first comment line, so the model sees it.
func (b *codeGenerationRequest) context() string {
	ctx := ""
	if b.Context != nil {
		ctx = *b.Context
	}
	pc := strings.TrimSpace(b.ProjectContext)
	if pc == "" || containsString(projectContexts, pc) {
		return ctx
	}
	pc = strings.ReplaceAll(pc, "\n", " ")
	if ctx == "" {
		return "# Project context: " + pc
	}
	return "# Project context: " + pc + "\n" + ctx
}

// engineRequest turns the body into the engine's request. model_type
// code_completion (the extension's autocomplete fallback) stays a generation whose
// prompt is the code before the cursor, on the autocomplete adapter.
func (b *codeGenerationRequest) engineRequest(r *http.Request) realtime.Request {
	task := b.ModelType
	if task == "" {
		task = realtime.TaskGeneration
	}
	req := baseRequest(r, realtime.KindGeneration, task)
	req.Prompt = strings.TrimSpace(*b.Prompt)
	req.Context = b.context()
	req.Language, req.FilePath, req.ContextSnippets = b.Language, b.FilePath, b.ContextSnippets
	req.Temperature, req.TopP = b.Temperature, b.TopP
	if b.MaxTokens != nil {
		req.MaxTokens = *b.MaxTokens
	}
	req.Profile = b.profile()
	req.NoCache = b.NoCache
	return req
}

// baseRequest fills the transport fields of an engine request: route, request id,
// caller and the affinity key (one caller → one vLLM replica, for its prefix cache).
func baseRequest(r *http.Request, kind realtime.Kind, task string) realtime.Request {
	req := realtime.Request{Kind: kind, Task: task, Route: r.Pattern, RequestID: requestIDFrom(r.Context())}
	if c, ok := callerFrom(r.Context()); ok {
		req.Caller = c
		switch {
		case c.KeyID != 0:
			req.AffinityKey = "key:" + strconv.FormatInt(c.KeyID, 10)
		case c.UserID != 0:
			req.AffinityKey = "user:" + strconv.FormatInt(c.UserID, 10)
		}
	}
	return req
}

func containsString(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// queryBool reads a boolean query parameter; anything but a true value is false.
func queryBool(r *http.Request, name string) bool {
	v, err := strconv.ParseBool(r.URL.Query().Get(name))
	return err == nil && v
}
