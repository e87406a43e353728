package realtime

import (
	"context"
	"slices"
	"time"

	"github.com/hapa-project/hapa/store"

	"github.com/hapa-project/hapa/vllm"
)

// This file fixes the engine's surface that every transport (REST/SSE in web, the
// WebSocket session, the OpenAI-compatible routes) builds on.

// Kind says which editor feature a request serves.
type Kind string

// The two kinds of stream.
const (
	KindCompletion Kind = "completion" // inline completion: autocomplete adapter, FIM
	KindGeneration Kind = "generation" // code generation / explanation / bug fix …
)

// Profile is the user's personalisation (docs/compatibility.md, "Profile fields").
// Empty fields mean "not set": a request's profile overrides the stored one field by
// field.
type Profile struct {
	PythonSkillLevel          string   `json:"pythonSkillLevel,omitempty"`
	CodeOutputStructure       string   `json:"codeOutputStructure,omitempty"`
	ExplanationStyle          string   `json:"explanationStyle,omitempty"`
	ProjectContext            string   `json:"projectContext,omitempty"`
	ErrorHandlingPreference   string   `json:"errorHandlingPreference,omitempty"`
	PreferredLanguageFeatures []string `json:"preferredLanguageFeatures,omitempty"`
}

// Caller identifies who asks: set by the transport after authentication.
type Caller struct {
	KeyID  int64    // api_keys.id; 0 for JWT callers
	UserID int64    // users.id; 0 when unknown
	Scopes []string // granted scopes
	Quota  Quota    // token quotas of the key (zero = unlimited)
}

// HasScope reports whether the caller holds scope; the admin scope holds them all.
func (c Caller) HasScope(scope string) bool {
	return slices.Contains(c.Scopes, scope) || slices.Contains(c.Scopes, store.ScopeAdmin)
}

// Quota limits tokens per key; zero fields are unlimited.
type Quota struct {
	TokensPerMinute int64
	TokensPerDay    int64
}

// Request is one generation or completion, transport-independent.
type Request struct {
	Kind        Kind
	Task        string         // HAPA model_type (code_generation, bug_fix, code_completion, …)
	Model       string         // explicit adapter or base model (OpenAI routes); overrides Task
	Prompt      string         // generation: the user's question
	Context     string         // generation: surrounding code, sent to the model
	Messages    []vllm.Message // OpenAI chat routes: used as-is after personalisation
	Prefix      string         // completion: code before the cursor
	Suffix      string         // completion: code after the cursor
	Language    string         // FIM: detected from FilePath (the path header's file) when empty; "" means python (docs/api.md, "Programming languages")
	FilePath    string
	MaxTokens   int      // 0 means the task's default
	Temperature *float64 // nil means the task's default
	TopP        *float64
	Stop        []string
	Seed        *int64
	Profile     *Profile // per-request override of the stored profile
	NoCache     bool     // bypass the response cache
	Raw         bool     // OpenAI routes: no personalisation, prompt sent as given

	// ContextSnippets are neighbouring files or recent edits the editor sends; the best
	// windows are packed into the prompt within the context budget (docs/api.md,
	// "Context snippets").
	ContextSnippets []ContextSnippet

	Route       string // route pattern or WS event, for the request log and metrics
	RequestID   string
	Caller      Caller
	AffinityKey string // editor session / workspace: same key → same vLLM replica

	// Admit, when set, is the caller's admission check (web's rate limit). Start calls
	// it once, after validating the request and before answering from the cache or
	// starting any upstream work, and returns its error. With a local cache it comes
	// before anything else. With a remote cache it runs on its own goroutine while the
	// prompt is rendered and the cache read, so a Redis-backed limit and a Redis cache
	// hit cost one round trip of latency instead of two; a refused request has then
	// read the cache (not counted as a hit or miss). A panic in it is raised again in
	// Start.
	Admit func(context.Context) error
}

// ContextSnippet is one piece of editor context: a path (may be empty) and its text.
type ContextSnippet struct {
	Path string `json:"path,omitempty"`
	Text string `json:"text"`
}

// Usage is a token count (prompt, completion, total), as vLLM reports it; transports
// name it through realtime and need not import vllm.
type Usage = vllm.Usage

// Event is what a subscriber reads from a Stream: text (possibly several upstream
// deltas merged when the reader was slower than the model), then exactly one terminal
// event, Done or Err.
type Event struct {
	Text string
	Done *Done
	Err  *Error
	// Usage is set on an Err terminal event: the tokens delivered before the error
	// (a Done carries its own in Done.Usage).
	Usage *vllm.Usage
}

// Done closes a successful stream.
type Done struct {
	FinishReason string     // stop | length | cancelled
	Usage        vllm.Usage // the tokens delivered to this subscriber (docs/operations.md, "Token accounting")
	TTFT         time.Duration
	Latency      time.Duration
	Cached       bool
	Coalesced    bool
	Model        string
	CompletionID string // as in StreamInfo
}

// StreamInfo is known when Start returns.
type StreamInfo struct {
	Model     string // adapter name
	Cached    bool
	Coalesced bool // joined an identical in-flight request
	// CompletionID names a completion for its feedback (docs/api.md, "Completion
	// feedback"); set on completion subscriptions when the engine has CompletionIDs.
	// Every subscription gets its own, cached and coalesced ones too: each is shown
	// to someone.
	CompletionID string
}

// Starter is what transports need from the engine; *Engine implements it.
type Starter interface {
	// Start validates and admits req and returns its stream. Validation and admission
	// errors (*Error) are returned here, before any byte is sent. The subscription ends
	// when ctx is cancelled or Close is called; the upstream request is cancelled when
	// its last subscriber leaves.
	Start(ctx context.Context, req Request) (*Stream, error)
}
