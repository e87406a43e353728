package web

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"github.com/hapa-project/hapa/realtime"
)

// Response objects of the OpenAI-compatible routes, in the field order and with the
// explicit nulls of vLLM's output (docs/api.md, "OpenAI-compatible routes"): chat
// chunks "chat.completion.chunk" whose first delta is
// {"role":"assistant","content":""}, completion chunks "text_completion" with "text",
// the last choice chunk with finish_reason, and — only when
// stream_options.include_usage is set — a usage chunk with "choices":[].

// openAIUsage is the token accounting of a response.
type openAIUsage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

type chatDelta struct {
	Role    string  `json:"role,omitempty"`
	Content *string `json:"content,omitempty"`
}

type chatMessageOut struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// openAIChoice is one choice of any of the four objects; exactly one of Delta,
// Message and Text is set, by the object's kind.
type openAIChoice struct {
	Index        int             `json:"index"`
	Delta        *chatDelta      `json:"delta,omitempty"`
	Message      *chatMessageOut `json:"message,omitempty"`
	Text         *string         `json:"text,omitempty"`
	Logprobs     *struct{}       `json:"logprobs"`
	FinishReason *string         `json:"finish_reason"`
}

type openAIObject struct {
	ID      string         `json:"id"`
	Object  string         `json:"object"`
	Created int64          `json:"created"`
	Model   string         `json:"model"`
	Choices []openAIChoice `json:"choices"`
	Usage   *openAIUsage   `json:"usage,omitempty"`
}

// openAIFormat builds the objects of one response.
type openAIFormat struct {
	chat    bool
	id      string
	model   string
	created int64
}

func newOpenAIFormat(chat bool, model string, created int64) openAIFormat {
	var b [16]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails
	prefix := "cmpl-"
	if chat {
		prefix = "chatcmpl-"
	}
	return openAIFormat{chat: chat, id: prefix + hex.EncodeToString(b[:]), model: model, created: created}
}

func (f openAIFormat) object(kind string, choices []openAIChoice, u *openAIUsage) openAIObject {
	return openAIObject{ID: f.id, Object: kind, Created: f.created, Model: f.model, Choices: choices, Usage: u}
}

// chunkKind is the streaming object's name.
func (f openAIFormat) chunkKind() string {
	if f.chat {
		return "chat.completion.chunk"
	}
	return "text_completion"
}

// roleChunk is the chat stream's first chunk (nil for completions).
func (f openAIFormat) roleChunk() *openAIObject {
	if !f.chat {
		return nil
	}
	empty := ""
	o := f.object(f.chunkKind(), []openAIChoice{{Delta: &chatDelta{Role: "assistant", Content: &empty}}}, nil)
	return &o
}

// textChunk carries text; finish is set on the last choice chunk.
func (f openAIFormat) textChunk(text string, finish *string) openAIObject {
	c := openAIChoice{FinishReason: finish}
	switch {
	case !f.chat:
		c.Text = &text
	case text != "":
		c.Delta = &chatDelta{Content: &text}
	default:
		c.Delta = &chatDelta{}
	}
	return f.object(f.chunkKind(), []openAIChoice{c}, nil)
}

// usageChunk is the include_usage chunk.
func (f openAIFormat) usageChunk(u openAIUsage) openAIObject {
	return f.object(f.chunkKind(), []openAIChoice{}, &u)
}

// whole is the non-streaming response.
func (f openAIFormat) whole(text, finish string, u openAIUsage) openAIObject {
	c := openAIChoice{FinishReason: &finish}
	if f.chat {
		c.Message = &chatMessageOut{Role: "assistant", Content: text}
		return f.object("chat.completion", []openAIChoice{c}, &u)
	}
	c.Text = &text
	return f.object("text_completion", []openAIChoice{c}, &u)
}

// openAIFinish maps the engine's finish reason; "cancelled" never reaches a client
// (it means the client left), anything unexpected is "stop".
func openAIFinish(reason string) string {
	if reason == "length" {
		return "length"
	}
	return "stop"
}

func openAIUsageOf(d *realtime.Done) openAIUsage {
	return openAIUsage{PromptTokens: d.Usage.PromptTokens, CompletionTokens: d.Usage.CompletionTokens, TotalTokens: d.Usage.TotalTokens}
}

// openAIOneShot answers a non-streaming request once the stream ended. Any error,
// even after text, gets its real status: nothing was written yet.
func (s *Server) openAIOneShot(w http.ResponseWriter, r *http.Request, src eventSource, f openAIFormat) {
	defer src.Close()
	ev, err := nextAll(r.Context(), src)
	switch {
	case err != nil && r.Context().Err() != nil: // the client left: nobody reads an answer
		return
	case err != nil: // the stream ended without a terminal event
		s.writeOpenAIError(w, r, realtime.Wrap(realtime.CodeInternal, err))
	case ev.Err != nil:
		s.writeOpenAIError(w, r, ev.Err)
	case ev.Done != nil && ev.Done.FinishReason != "cancelled":
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write(openAIJSON(f.whole(ev.Text, openAIFinish(ev.Done.FinishReason), openAIUsageOf(ev.Done))))
	}
}
