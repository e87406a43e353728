package wsclient

import "encoding/json"

// The wire types of protocol hapa.v1 as a client sees them (docs/protocol.md). They
// are declared here, not imported from realtime, so that the client is a second,
// independent reading of the protocol document.

// Limits is the limits object of session.created.
type Limits struct {
	MaxStreams      int     `json:"max_streams"`
	MaxMessageBytes int64   `json:"max_message_bytes"`
	PingIntervalMS  int64   `json:"ping_interval_ms"`
	WriteTimeoutMS  int64   `json:"write_timeout_ms"`
	FrameRate       float64 `json:"frame_rate"`
	FrameBurst      int     `json:"frame_burst"`
	MaxConnsPerKey  int     `json:"max_conns_per_key"`
}

// Usage is the token accounting of stream.done.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Error is the error object of stream.error and error.
type Error struct {
	Code         string          `json:"code"`
	Message      string          `json:"message"`
	Retryable    bool            `json:"retryable"`
	RetryAfterMS int64           `json:"retry_after_ms,omitempty"`
	IncidentID   string          `json:"incident_id,omitempty"`
	Details      json.RawMessage `json:"details,omitempty"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// Event is any server frame, decoded; fields absent from its type are zero.
type Event struct {
	Type             string          `json:"type"`
	EventID          string          `json:"event_id,omitempty"`
	ID               string          `json:"id,omitempty"`
	SessionID        string          `json:"session_id,omitempty"`
	Protocol         string          `json:"protocol,omitempty"`
	ServerVersion    string          `json:"server_version,omitempty"`
	Limits           *Limits         `json:"limits,omitempty"`
	Session          json.RawMessage `json:"session,omitempty"`
	Kind             string          `json:"kind,omitempty"`
	Model            string          `json:"model,omitempty"`
	Seq              int64           `json:"seq,omitempty"`
	Text             string          `json:"text,omitempty"`
	FinishReason     string          `json:"finish_reason,omitempty"`
	Usage            *Usage          `json:"usage,omitempty"`
	TTFTMS           int64           `json:"ttft_ms,omitempty"`
	LatencyMS        int64           `json:"latency_ms,omitempty"`
	Cached           bool            `json:"cached,omitempty"`
	Coalesced        bool            `json:"coalesced,omitempty"`
	CompletionID     string          `json:"completion_id,omitempty"` // stream.started and stream.done of completions
	Error            *Error          `json:"error,omitempty"`
	Reason           string          `json:"reason,omitempty"`
	ReconnectAfterMS int64           `json:"reconnect_after_ms,omitempty"`
}

// Terminal reports whether e ends its stream.
func (e Event) Terminal() bool { return e.Type == "stream.done" || e.Type == "stream.error" }

// Profile is the personalisation object (docs/compatibility.md, "Profile fields");
// empty fields are not sent.
type Profile struct {
	PythonSkillLevel          string   `json:"pythonSkillLevel,omitempty"`
	CodeOutputStructure       string   `json:"codeOutputStructure,omitempty"`
	ExplanationStyle          string   `json:"explanationStyle,omitempty"`
	ProjectContext            string   `json:"projectContext,omitempty"`
	ErrorHandlingPreference   string   `json:"errorHandlingPreference,omitempty"`
	PreferredLanguageFeatures []string `json:"preferredLanguageFeatures,omitempty"`
}

// Editor names the editor in session.update.
type Editor struct {
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
}

// SessionUpdate is session.update.
type SessionUpdate struct {
	Profile   *Profile `json:"profile,omitempty"`
	Editor    *Editor  `json:"editor,omitempty"`
	Workspace *string  `json:"workspace,omitempty"`
}

// Snippet is one context snippet of a create event (docs/protocol.md, "Context
// snippets"): a neighbouring file or a recent edit.
type Snippet struct {
	Path string `json:"path,omitempty"`
	Text string `json:"text"`
}

// CompletionCreate is completion.create; an empty ID is filled in by the client.
type CompletionCreate struct {
	ID          string   `json:"id"`
	Prefix      string   `json:"prefix"`
	Suffix      string   `json:"suffix,omitempty"`
	Language    string   `json:"language,omitempty"`
	FilePath    string   `json:"file_path,omitempty"`
	MaxTokens   int      `json:"max_tokens,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
	Stop        []string `json:"stop,omitempty"`
	Replace     bool     `json:"replace,omitempty"`

	ContextSnippets []Snippet `json:"context_snippets,omitempty"`
}

// CompletionFeedback is completion.feedback: what the editor did with the completion
// named by CompletionID (stream.started's completion_id). AcceptedChars and
// AcceptedLines are for "accepted" (a partial accept keeps less than the whole).
type CompletionFeedback struct {
	CompletionID  string `json:"completion_id"`
	Event         string `json:"event"` // shown | accepted | dismissed
	AcceptedChars *int   `json:"accepted_chars,omitempty"`
	AcceptedLines *int   `json:"accepted_lines,omitempty"`
}

// GenerationCreate is generation.create; an empty ID is filled in by the client.
type GenerationCreate struct {
	ID          string   `json:"id"`
	Prompt      string   `json:"prompt"`
	ModelType   string   `json:"model_type,omitempty"`
	Context     string   `json:"context,omitempty"`
	Language    string   `json:"language,omitempty"`
	MaxTokens   int      `json:"max_tokens,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
	TopP        *float64 `json:"top_p,omitempty"`
	Profile     *Profile `json:"profile,omitempty"`

	FilePath        string    `json:"file_path,omitempty"`
	ContextSnippets []Snippet `json:"context_snippets,omitempty"`
}
