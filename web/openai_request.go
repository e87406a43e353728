package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strings"

	"github.com/hapa-project/hapa/realtime"
)

// Bodies of POST /v1/chat/completions and POST /v1/completions. Fields HAPA does not
// implement (tools, logprobs, penalties, response_format, …) are ignored, as unknown
// fields are on every route. The union-typed fields (stop, prompt, message content)
// are kept raw and checked in parse, so each bad value gets its own param.

// openAISampling are the fields both bodies share.
type openAISampling struct {
	Model               string          `json:"model"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	Stop                json.RawMessage `json:"stop"`
	N                   *int            `json:"n"`
	Seed                *int64          `json:"seed"`
	User                string          `json:"user"`
	Stream              bool            `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage bool `json:"include_usage"`
	} `json:"stream_options"`
}

type chatRequestBody struct {
	openAISampling
	Messages []chatMessageBody `json:"messages"`
}

type chatMessageBody struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

type completionRequestBody struct {
	openAISampling
	Prompt json.RawMessage `json:"prompt"`
	Suffix *string         `json:"suffix"`
	// HAPA's extensions of a fill-in-the-middle request (with a suffix; docs/api.md,
	// "Context snippets"): the edited file, for the path header and the language, and
	// the editor's context snippets.
	FilePath        string                    `json:"file_path,omitempty"`
	ContextSnippets []realtime.ContextSnippet `json:"context_snippets,omitempty"`
}

// openAIParsed is a checked body: the engine request without the transport fields,
// and what the response needs.
type openAIParsed struct {
	req          realtime.Request
	model        string // as the client named it (echoed in responses)
	stream       bool
	includeUsage bool
	user         string
}

// invalidParam is a 400 naming param.
func invalidParam(param, format string, args ...any) *realtime.Error {
	msg := fmt.Sprintf(format, args...)
	e := realtime.NewError(realtime.CodeInvalidInput, msg)
	e.Fields = []realtime.FieldError{{Field: param, Message: msg, Code: realtime.CodeInvalidInput}}
	return e
}

// maxOpenAIStop bounds stop sequences (OpenAI allows 4; the engine takes up to 8).
const maxOpenAIStop = 8

// parse checks the shared fields and fills them into p.
func (b *openAISampling) parse(p *openAIParsed) *realtime.Error {
	if b.N != nil && *b.N != 1 {
		return invalidParam("n", "n must be 1: HAPA returns one choice per request")
	}
	if b.StreamOptions != nil && !b.Stream {
		return invalidParam("stream_options", "Stream options can only be defined when `stream=True`.")
	}
	max := b.MaxTokens
	if b.MaxCompletionTokens != nil {
		max = b.MaxCompletionTokens
	}
	if max != nil {
		if *max < 1 {
			return invalidParam("max_tokens", "max_tokens must be at least 1, got %d", *max)
		}
		// An upper bound, not a demand: clients send their own default (often larger).
		p.req.MaxTokens = min(*max, maxTokensLimit)
	}
	stop, err := parseStop(b.Stop)
	if err != nil {
		return err
	}
	p.req.Stop, p.req.Temperature, p.req.TopP, p.req.Seed = stop, b.Temperature, b.TopP, b.Seed
	p.model, p.stream, p.user = b.Model, b.Stream, b.User
	p.includeUsage = b.StreamOptions != nil && b.StreamOptions.IncludeUsage
	return nil
}

// parseStop accepts null, a string, or an array of strings.
func parseStop(raw json.RawMessage) ([]string, *realtime.Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		if one == "" {
			return nil, nil
		}
		return []string{one}, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return nil, invalidParam("stop", "stop must be a string or an array of strings")
	}
	if len(many) > maxOpenAIStop {
		return nil, invalidParam("stop", "at most %d stop sequences", maxOpenAIStop)
	}
	return many, nil
}

// parse checks a chat body.
func (b *chatRequestBody) parse() (openAIParsed, *realtime.Error) {
	var p openAIParsed
	if err := b.openAISampling.parse(&p); err != nil {
		return p, err
	}
	if len(b.Messages) == 0 {
		return p, invalidParam("messages", "messages must be a non-empty array")
	}
	p.req.Kind, p.req.Raw = realtime.KindGeneration, true
	p.req.Messages = make([]realtime.Message, 0, len(b.Messages))
	for i, m := range b.Messages {
		role := m.Role
		switch role {
		case "system", "user", "assistant":
		case "developer": // OpenAI's newer name of the system role
			role = "system"
		case "":
			return p, invalidParam("messages", "messages[%d].role is required", i)
		default:
			return p, invalidParam("messages", "messages[%d].role %q is not supported (want system, developer, user or assistant)", i, m.Role)
		}
		text, err := messageText(m.Content, i)
		if err != nil {
			return p, err
		}
		p.req.Messages = append(p.req.Messages, realtime.Message{Role: role, Content: text})
	}
	return p, nil
}

// messageText reads a message's content: a string, null (an assistant turn without
// text), or an array of text parts, joined.
func messageText(raw json.RawMessage, i int) (string, *realtime.Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", nil
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var parts []struct {
		Type string  `json:"type"`
		Text *string `json:"text"`
	}
	if err := json.Unmarshal(raw, &parts); err != nil {
		return "", invalidParam("messages", "messages[%d].content must be a string or an array of text parts", i)
	}
	var b strings.Builder
	for j, part := range parts {
		if part.Type != "text" || part.Text == nil {
			return "", invalidParam("messages", "messages[%d].content[%d]: only text parts are supported", i, j)
		}
		b.WriteString(*part.Text)
	}
	return b.String(), nil
}

// parse checks a completions body. With a suffix (even an empty one) the request is a
// fill-in-the-middle completion: prompt and suffix are rendered with the model
// family's FIM template, which vLLM itself would not do (it ignores suffix). Without
// one the prompt goes upstream as given.
func (b *completionRequestBody) parse() (openAIParsed, *realtime.Error) {
	var p openAIParsed
	if err := b.openAISampling.parse(&p); err != nil {
		return p, err
	}
	prompt, err := parsePrompt(b.Prompt)
	if err != nil {
		return p, err
	}
	if b.Suffix != nil {
		p.req.Kind, p.req.Task = realtime.KindCompletion, realtime.TaskCompletion
		p.req.Prefix, p.req.Suffix = prompt, *b.Suffix
		p.req.FilePath, p.req.ContextSnippets = b.FilePath, b.ContextSnippets
		return p, nil
	}
	if b.FilePath != "" || len(b.ContextSnippets) > 0 {
		return p, invalidParam("context_snippets", "file_path and context_snippets need a suffix: they are fill-in-the-middle extensions")
	}
	p.req.Kind, p.req.Raw, p.req.Prompt = realtime.KindGeneration, true, prompt
	return p, nil
}

// parsePrompt accepts a string or an array of exactly one string (token-id prompts
// and batches are not supported).
func parsePrompt(raw json.RawMessage) (string, *realtime.Error) {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 || string(raw) == "null" {
		return "", invalidParam("prompt", "prompt is required")
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var many []string
	if err := json.Unmarshal(raw, &many); err != nil {
		return "", invalidParam("prompt", "prompt must be a string or an array of one string")
	}
	if len(many) != 1 {
		return "", invalidParam("prompt", "prompt must hold exactly one string (got %d): HAPA serves one prompt per request", len(many))
	}
	return many[0], nil
}

// decodeChatRequest reads and checks a chat body (the fuzz target).
func decodeChatRequest(body io.Reader) (openAIParsed, error) {
	var b chatRequestBody
	if err := openAIDecode(body, &b); err != nil {
		return openAIParsed{}, err
	}
	p, err := b.parse()
	if err != nil {
		return p, err
	}
	return p, nil
}

// decodeCompletionRequest reads and checks a completions body (the fuzz target).
func decodeCompletionRequest(body io.Reader) (openAIParsed, error) {
	var b completionRequestBody
	if err := openAIDecode(body, &b); err != nil {
		return openAIParsed{}, err
	}
	p, err := b.parse()
	if err != nil {
		return p, err
	}
	return p, nil
}

// openAIDecode is decodeJSONFrom with field paths as the client wrote them (without
// the embedded struct's name).
func openAIDecode(body io.Reader, dst any) error {
	err := decodeJSONFrom(body, dst)
	if e, ok := err.(*realtime.Error); ok {
		e.Message = strings.ReplaceAll(e.Message, "openAISampling.", "")
		for i := range e.Fields {
			e.Fields[i].Field = strings.TrimPrefix(e.Fields[i].Field, "openAISampling.")
		}
	}
	return err
}
