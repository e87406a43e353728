package sim

import (
	"encoding/json"
	"fmt"
	"hash/fnv"
	"math"
	"net/http"
	"strconv"
	"strings"
)

// apiRequest is the subset of vLLM's CompletionRequest / ChatCompletionRequest the
// simulator reads; unknown fields are ignored as vLLM ignores them.
type apiRequest struct {
	Model               string          `json:"model"`
	Prompt              json.RawMessage `json:"prompt"`
	Messages            []apiMessage    `json:"messages"`
	MaxTokens           *int            `json:"max_tokens"`
	MaxCompletionTokens *int            `json:"max_completion_tokens"`
	Temperature         *float64        `json:"temperature"`
	TopP                *float64        `json:"top_p"`
	Stop                json.RawMessage `json:"stop"`
	Seed                *int64          `json:"seed"`
	N                   *int            `json:"n"`
	Stream              bool            `json:"stream"`
	StreamOptions       *struct {
		IncludeUsage         bool `json:"include_usage"`
		ContinuousUsageStats bool `json:"continuous_usage_stats"`
	} `json:"stream_options"`
}

type apiMessage struct {
	Role    string          `json:"role"`
	Content json.RawMessage `json:"content"`
}

// job is a validated request.
type job struct {
	chat         bool
	model        string
	adapter      string
	prompt       string // completion prompt, or the chat messages rendered
	promptTokens int
	maxTokens    int
	stop         []string
	stream       bool
	includeUsage bool
	continuous   bool // continuous_usage_stats: the running usage on every chunk
	outputSeed   uint64
}

// httpError is a validation failure answered with vLLM's error body.
type httpError struct {
	status int
	msg    string
	param  *string
}

func badRequest(format string, args ...any) *httpError {
	return &httpError{status: http.StatusBadRequest, msg: fmt.Sprintf(format, args...)}
}

// parseJob validates body in vLLM's order: schema, model, context length.
func (s *Server) parseJob(body []byte, chat bool) (*job, *httpError) {
	var req apiRequest
	if err := json.Unmarshal(body, &req); err != nil {
		return nil, badRequest("JSON decode error: %v", err)
	}
	if req.StreamOptions != nil && !req.Stream {
		return nil, badRequest("Stream options can only be defined when `stream=True`.")
	}
	if req.N != nil && *req.N != 1 {
		return nil, badRequest("n must be 1 in the simulator, got %d.", *req.N)
	}
	if t := req.Temperature; t != nil && (*t < 0 || math.IsNaN(*t)) {
		return nil, badRequest("temperature must be non-negative, got %v.", *t)
	}
	if p := req.TopP; p != nil && (*p <= 0 || *p > 1) {
		return nil, badRequest("top_p must be in (0, 1], got %v.", *p)
	}
	j := &job{chat: chat, stream: req.Stream, model: req.Model}
	j.includeUsage = req.StreamOptions != nil && req.StreamOptions.IncludeUsage
	j.continuous = j.includeUsage && req.StreamOptions.ContinuousUsageStats
	var herr *httpError
	if chat {
		j.prompt, herr = renderMessages(req.Messages)
	} else {
		j.prompt, herr = promptText(req.Prompt)
	}
	if herr != nil {
		return nil, herr
	}
	if j.stop, herr = stopList(req.Stop); herr != nil {
		return nil, herr
	}
	if j.model == "" {
		j.model = s.cfg.Model
	}
	adapter, ok := s.adapterOf(j.model)
	if !ok {
		// vLLM's exact text; param is null in the bodies it is known to send.
		return nil, &httpError{status: http.StatusNotFound,
			msg: "The model `" + j.model + "` does not exist."}
	}
	j.adapter = adapter
	j.promptTokens = countTokens(j.prompt)
	if herr := s.checkLength(j, req); herr != nil {
		return nil, herr
	}
	j.outputSeed = outputSeed(s.cfg.Seed, j, req)
	return j, nil
}

func (s *Server) checkLength(j *job, req apiRequest) *httpError {
	limit := s.cfg.MaxModelLen
	mt := req.MaxTokens
	if req.MaxCompletionTokens != nil {
		mt = req.MaxCompletionTokens
	}
	if j.promptTokens >= limit {
		return badRequest("This model's maximum context length is %d tokens. However, you requested %d tokens in the messages, Please reduce the length of the messages.", limit, j.promptTokens)
	}
	switch {
	case mt == nil && j.chat:
		j.maxTokens = limit - j.promptTokens
	case mt == nil:
		j.maxTokens = 16 // vLLM's /v1/completions default, as OpenAI's
	case *mt < 1:
		return badRequest("max_tokens must be at least 1, got %d.", *mt)
	default:
		j.maxTokens = *mt
	}
	if j.promptTokens+j.maxTokens > limit {
		return badRequest("This model's maximum context length is %d tokens. However, you requested %d tokens (%d in the messages, %d in the completion). Please reduce the length of the messages or completion.",
			limit, j.promptTokens+j.maxTokens, j.promptTokens, j.maxTokens)
	}
	return nil
}

// outputSeed makes the answer a function of (seed, model, prompt, temperature, seed
// parameter) only.
func outputSeed(seed int64, j *job, req apiRequest) uint64 {
	h := fnv.New64a()
	fmt.Fprintf(h, "%d\x00%s\x00%s\x00", seed, j.model, j.prompt)
	if req.Temperature != nil {
		h.Write(strconv.AppendFloat(nil, *req.Temperature, 'g', -1, 64))
	}
	if req.Seed != nil {
		h.Write(strconv.AppendInt([]byte{0}, *req.Seed, 10))
	}
	return h.Sum64()
}

func promptText(raw json.RawMessage) (string, *httpError) {
	if len(raw) == 0 || string(raw) == "null" {
		return "", badRequest("Either prompt or prompt_embeds must be provided and non-empty.")
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s, nil
	}
	var list []string
	if json.Unmarshal(raw, &list) == nil && len(list) == 1 {
		return list[0], nil
	}
	return "", badRequest("prompt must be a string (the simulator serves one prompt per request).")
}

func renderMessages(msgs []apiMessage) (string, *httpError) {
	if len(msgs) == 0 {
		return "", badRequest("messages must not be empty.")
	}
	var b strings.Builder
	for _, m := range msgs {
		var text string
		if json.Unmarshal(m.Content, &text) != nil {
			var parts []struct {
				Type string `json:"type"`
				Text string `json:"text"`
			}
			if json.Unmarshal(m.Content, &parts) != nil {
				return "", badRequest("message content must be a string or a list of text parts.")
			}
			for _, p := range parts {
				text += p.Text
			}
		}
		// Roughly DeepSeek's chat template, so prompt_tokens include the framing.
		b.WriteString("### " + m.Role + ":\n" + text + "\n")
	}
	b.WriteString("### Response:\n")
	return b.String(), nil
}

func stopList(raw json.RawMessage) ([]string, *httpError) {
	if len(raw) == 0 || string(raw) == "null" {
		return nil, nil
	}
	var one string
	if json.Unmarshal(raw, &one) == nil {
		return []string{one}, nil
	}
	var many []string
	if json.Unmarshal(raw, &many) != nil {
		return nil, badRequest("stop must be a string or a list of strings.")
	}
	return many, nil
}
