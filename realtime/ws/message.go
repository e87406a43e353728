package ws

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hapa-project/hapa/realtime"
)

// This file is the wire format of protocol hapa.v1 (docs/protocol.md):
// the client events the session accepts and the server events it sends.

// Client event types.
const (
	EventSessionUpdate    = "session.update"
	EventCompletionCreate = "completion.create"
	EventGenerationCreate = "generation.create"
	EventStreamCancel     = "stream.cancel"
	EventPing             = "ping"
	// EventCompletionFeedback reports what the editor did with a completion
	// (docs/protocol.md, "completion.feedback").
	EventCompletionFeedback = "completion.feedback"
)

// Server event types.
const (
	EventSessionCreated = "session.created"
	EventSessionUpdated = "session.updated"
	EventStreamStarted  = "stream.started"
	EventStreamDelta    = "stream.delta"
	EventStreamDone     = "stream.done"
	EventStreamError    = "stream.error"
	EventError          = "error"
	EventPong           = "pong"
	EventSessionClosing = "session.closing"
)

// Protocol is the one subprotocol the server selects.
const Protocol = "hapa.v1"

// maxIDLen bounds a client-chosen stream id.
const maxIDLen = 128

// EditorInfo names the editor of a session.
type EditorInfo struct {
	Name    string `json:"name,omitempty"`
	Version string `json:"version,omitempty"`
}

// StopList is a stop field that accepts one string or a list of strings.
type StopList []string

// UnmarshalJSON accepts "x", ["x","y"] and null.
func (s *StopList) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) > 0 && b[0] == '"' {
		var one string
		if err := json.Unmarshal(b, &one); err != nil {
			return err
		}
		*s = StopList{one}
		return nil
	}
	var many []string
	if err := json.Unmarshal(b, &many); err != nil {
		return errors.New("stop: want a string or a list of strings")
	}
	*s = many
	return nil
}

// ClientEvent is one decoded client frame. One flat struct covers every type (fields
// of other types are simply absent); unknown fields are ignored for forward
// compatibility.
type ClientEvent struct {
	Type    string `json:"type"`
	EventID string `json:"event_id,omitempty"`
	ID      string `json:"id,omitempty"`

	// session.update
	Editor    *EditorInfo       `json:"editor,omitempty"`
	Workspace *string           `json:"workspace,omitempty"`
	Profile   *realtime.Profile `json:"profile,omitempty"` // also generation.create

	// completion.create
	Prefix   string `json:"prefix,omitempty"`
	Suffix   string `json:"suffix,omitempty"`
	FilePath string `json:"file_path,omitempty"` // also generation.create
	Replace  bool   `json:"replace,omitempty"`

	// generation.create
	Prompt    string `json:"prompt,omitempty"`
	ModelType string `json:"model_type,omitempty"`
	Context   string `json:"context,omitempty"`

	// completion.feedback
	CompletionID  string `json:"completion_id,omitempty"`
	Event         string `json:"event,omitempty"`
	AcceptedChars *int   `json:"accepted_chars,omitempty"`
	AcceptedLines *int   `json:"accepted_lines,omitempty"`

	// both creates
	Language    string   `json:"language,omitempty"`
	MaxTokens   int      `json:"max_tokens,omitempty"`
	Temperature *float64 `json:"temperature,omitempty"`
	TopP        *float64 `json:"top_p,omitempty"`
	Stop        StopList `json:"stop,omitempty"`

	// ContextSnippets (both creates) are neighbouring files or recent edits, packed
	// into the prompt (docs/protocol.md, "Context snippets").
	ContextSnippets []realtime.ContextSnippet `json:"context_snippets,omitempty"`
}

// DecodeClientEvent parses one text frame. The returned *Error is E4001 (not JSON, not
// an object, a field of the wrong type, unknown type) or E4002 (missing type or id);
// the event is returned as far as it was decoded so that event_id can be echoed.
func DecodeClientEvent(b []byte) (ClientEvent, *realtime.Error) {
	var ev ClientEvent
	b = bytes.TrimSpace(b)
	if len(b) == 0 || b[0] != '{' {
		return ev, realtime.NewError(realtime.CodeInvalidInput, "frame is not a JSON object")
	}
	if err := json.Unmarshal(b, &ev); err != nil {
		// A wrong-typed field still leaves the other fields decoded; recover event_id.
		var env struct {
			EventID any `json:"event_id"`
		}
		if json.Unmarshal(b, &env) == nil {
			if s, ok := env.EventID.(string); ok {
				ev.EventID = s
			}
		}
		return ev, realtime.NewError(realtime.CodeInvalidInput, "invalid JSON: "+jsonProblem(err))
	}
	switch ev.Type {
	case "":
		return ev, realtime.NewError(realtime.CodeMissingField, "missing field: type")
	case EventCompletionCreate, EventGenerationCreate, EventStreamCancel:
		if ev.ID == "" {
			return ev, realtime.NewError(realtime.CodeMissingField, "missing field: id")
		}
		if len(ev.ID) > maxIDLen {
			return ev, realtime.NewError(realtime.CodeInvalidInput, fmt.Sprintf("id longer than %d bytes", maxIDLen))
		}
	case EventSessionUpdate, EventPing, EventCompletionFeedback:
	default:
		return ev, realtime.NewError(realtime.CodeInvalidInput, fmt.Sprintf("unknown event type %q", truncate(ev.Type, 64)))
	}
	return ev, nil
}

// jsonProblem describes a decoding error without echoing large input.
func jsonProblem(err error) string {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Sprintf("field %s: want %s", te.Field, te.Type)
	}
	var se *json.SyntaxError
	if errors.As(err, &se) {
		return fmt.Sprintf("syntax error at offset %d", se.Offset)
	}
	return truncate(err.Error(), 120)
}

// truncate shortens s to at most n bytes without splitting a UTF-8 sequence.
func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	s = s[:n]
	for len(s) > 0 && !utf8Start(s[len(s)-1]) {
		s = s[:len(s)-1]
	}
	if len(s) > 0 {
		s = s[:len(s)-1]
	}
	return strings.ToValidUTF8(s, "")
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// Limits is advertised in session.created.
type Limits struct {
	MaxStreams      int     `json:"max_streams"`
	MaxMessageBytes int64   `json:"max_message_bytes"`
	PingIntervalMS  int64   `json:"ping_interval_ms"`
	WriteTimeoutMS  int64   `json:"write_timeout_ms"`
	FrameRate       float64 `json:"frame_rate"`
	FrameBurst      int     `json:"frame_burst"`
	MaxConnsPerKey  int     `json:"max_conns_per_key"`
}

// SessionInfo is the session object of session.updated.
type SessionInfo struct {
	ID        string            `json:"id"`
	Profile   *realtime.Profile `json:"profile,omitempty"`
	Editor    *EditorInfo       `json:"editor,omitempty"`
	Workspace string            `json:"workspace,omitempty"`
}

// WireError is the error object of stream.error and error frames.
type WireError struct {
	Code         realtime.Code         `json:"code"`
	Message      string                `json:"message"`
	Retryable    bool                  `json:"retryable"`
	RetryAfterMS int64                 `json:"retry_after_ms,omitempty"`
	IncidentID   string                `json:"incident_id,omitempty"`
	Details      []realtime.FieldError `json:"details,omitempty"`
}

// wireError maps an *Error to its frame form: the one table from errors to frames.
func wireError(e *realtime.Error) WireError {
	return WireError{Code: e.Code, Message: e.Message, Retryable: e.Retryable(),
		RetryAfterMS: e.RetryAfter.Milliseconds(), IncidentID: e.IncidentID, Details: e.Fields}
}

// wireUsage is realtime.Usage on the wire.
type wireUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// serverEvent is every server frame: one struct, absent fields omitted. Field order
// puts type first so transcripts read well.
type serverEvent struct {
	Type             string        `json:"type"`
	EventID          string        `json:"event_id,omitempty"`
	ID               string        `json:"id,omitempty"`
	SessionID        string        `json:"session_id,omitempty"`
	Protocol         string        `json:"protocol,omitempty"`
	ServerVersion    string        `json:"server_version,omitempty"`
	Limits           *Limits       `json:"limits,omitempty"`
	Session          *SessionInfo  `json:"session,omitempty"`
	Kind             realtime.Kind `json:"kind,omitempty"`
	Model            string        `json:"model,omitempty"`
	Seq              int64         `json:"seq,omitempty"`
	Text             *string       `json:"text,omitempty"`
	FinishReason     string        `json:"finish_reason,omitempty"`
	Usage            *wireUsage    `json:"usage,omitempty"`
	TTFTMS           *int64        `json:"ttft_ms,omitempty"`
	LatencyMS        *int64        `json:"latency_ms,omitempty"`
	Cached           *bool         `json:"cached,omitempty"`
	Coalesced        *bool         `json:"coalesced,omitempty"`
	CompletionID     string        `json:"completion_id,omitempty"`
	Error            *WireError    `json:"error,omitempty"`
	Reason           string        `json:"reason,omitempty"`
	ReconnectAfterMS *int64        `json:"reconnect_after_ms,omitempty"`
}

func (e serverEvent) encode() []byte {
	b, err := json.Marshal(e)
	if err != nil { // only plain types above: cannot happen
		panic("realtime: encode server event: " + err.Error())
	}
	return b
}

func ptr[T any](v T) *T { return &v }

func startedFrame(id string, kind realtime.Kind, info realtime.StreamInfo) []byte {
	return serverEvent{Type: EventStreamStarted, ID: id, Kind: kind, Model: info.Model,
		Cached: ptr(info.Cached), Coalesced: ptr(info.Coalesced), CompletionID: info.CompletionID}.encode()
}

func deltaFrame(id string, seq int64, text string) []byte {
	return serverEvent{Type: EventStreamDelta, ID: id, Seq: seq, Text: &text}.encode()
}

func doneFrame(id string, d realtime.Done) []byte {
	return serverEvent{Type: EventStreamDone, ID: id, FinishReason: d.FinishReason,
		Usage:  &wireUsage{d.Usage.PromptTokens, d.Usage.CompletionTokens, d.Usage.TotalTokens},
		TTFTMS: ptr(d.TTFT.Milliseconds()), LatencyMS: ptr(d.Latency.Milliseconds()),
		Cached: ptr(d.Cached), CompletionID: d.CompletionID}.encode()
}

// streamErrorFrame ends stream id with e; u (may be nil) is the usage delivered before
// it (a stream revoked, cut at shutdown or failed mid-way is charged that).
func streamErrorFrame(id string, e *realtime.Error, u *realtime.Usage) []byte {
	we := wireError(e)
	ev := serverEvent{Type: EventStreamError, ID: id, Error: &we}
	if u != nil {
		ev.Usage = &wireUsage{u.PromptTokens, u.CompletionTokens, u.TotalTokens}
	}
	return ev.encode()
}

// errorFrame answers a client event that was not accepted. retry_after_ms is set for
// frame-rate rejections.
func errorFrame(eventID string, e *realtime.Error) []byte {
	we := WireError{Code: e.Code, Message: e.Message, Retryable: e.Retryable(),
		RetryAfterMS: e.RetryAfter.Milliseconds(), Details: e.Fields}
	return serverEvent{Type: EventError, EventID: eventID, Error: &we}.encode()
}
