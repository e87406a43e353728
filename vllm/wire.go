package vllm

import (
	"bytes"
	"encoding/json"
)

// wireRequest is the body of /v1/completions and /v1/chat/completions.
type wireRequest struct {
	Model         string        `json:"model"`
	Prompt        string        `json:"prompt,omitempty"`
	Messages      []Message     `json:"messages,omitempty"`
	MaxTokens     int           `json:"max_tokens,omitempty"`
	Temperature   float64       `json:"temperature"` // 0 is greedy, so always sent
	TopP          float64       `json:"top_p,omitempty"`
	Stop          []string      `json:"stop,omitempty"`
	Seed          *int64        `json:"seed,omitempty"`
	User          string        `json:"user,omitempty"`
	Stream        bool          `json:"stream"`
	StreamOptions streamOptions `json:"stream_options"`
}

// streamOptions asks for the usage chunk at the end and, with continuous_usage_stats,
// for the running usage on every chunk: a stream that is cancelled is then charged
// the tokens vLLM really produced (docs/operations.md, "Token accounting").
type streamOptions struct {
	IncludeUsage         bool `json:"include_usage"`
	ContinuousUsageStats bool `json:"continuous_usage_stats"`
}

func encodeRequest(r Request) ([]byte, error) {
	w := wireRequest{
		Model: r.Model, MaxTokens: r.MaxTokens, Temperature: r.Temperature,
		TopP: r.TopP, Stop: r.Stop, Seed: r.Seed, User: r.User,
		Stream: true, StreamOptions: streamOptions{IncludeUsage: true, ContinuousUsageStats: true},
	}
	if r.Chat() {
		w.Messages = r.Messages
	} else {
		w.Prompt = r.Prompt
	}
	return json.Marshal(w)
}

// wireChunk decodes only what HAPA needs from a completion or chat chunk, plus both
// error shapes. One value is reused for every chunk of a stream.
type wireChunk struct {
	Choices []wireChoice    `json:"choices"`
	Usage   *Usage          `json:"usage"`
	Error   json.RawMessage `json:"error"`
	Object  string          `json:"object"`
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Param   json.RawMessage `json:"param"`
	Code    json.RawMessage `json:"code"`
}

type wireChoice struct {
	Index        int     `json:"index"`
	Text         string  `json:"text"`
	Delta        wireMsg `json:"delta"`
	FinishReason *string `json:"finish_reason"`
}

type wireMsg struct {
	Content string `json:"content"`
}

// decode parses one data payload into d. A payload that is an error returns it.
func (c *wireChunk) decode(data []byte, d *Delta, usage *Usage) error {
	if fastChunk(data, d, usage) {
		return nil
	}
	return c.decodeSlow(data, d, usage)
}

// decodeSlow is the encoding/json reference decoder.
func (c *wireChunk) decodeSlow(data []byte, d *Delta, usage *Usage) error {
	// encoding/json decodes into a reused slice element without zeroing it first.
	c.Choices = c.Choices[:cap(c.Choices)]
	clear(c.Choices)
	c.Choices = c.Choices[:0]
	c.Usage = nil
	c.Error, c.Object, c.Message, c.Type, c.Code, c.Param = nil, "", "", "", nil, nil
	if bytes.Contains(data, []byte(`"usage"`)) {
		c.Usage = usage // decode in place, no allocation per chunk
	}
	if err := json.Unmarshal(data, c); err != nil {
		return &APIError{Type: "DecodeError", Message: "malformed chunk: " + err.Error()}
	}
	if len(c.Error) > 0 || c.Object == "error" {
		w := wireError{Object: c.Object, Message: c.Message, Type: c.Type,
			Param: c.Param, Code: c.Code, Error: c.Error}
		if e, ok := w.apiError(0); ok {
			if e.Status == 0 {
				e.Status = 500
			}
			return e
		}
	}
	*d = Delta{}
	for i := range c.Choices {
		ch := &c.Choices[i]
		if ch.Index != 0 {
			continue // HAPA asks for n=1; ignore others defensively
		}
		d.Text = ch.Text + ch.Delta.Content
		if ch.FinishReason != nil {
			d.FinishReason = *ch.FinishReason
		}
	}
	if c.Usage != nil && c.Usage.TotalTokens+c.Usage.PromptTokens+c.Usage.CompletionTokens > 0 {
		d.Usage = c.Usage
	}
	return nil
}
