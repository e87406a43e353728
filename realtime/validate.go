package realtime

import (
	"fmt"
	"math"
	"strings"
	"unicode/utf8"

	"github.com/hapa-project/hapa/vllm"
)

// Validation of every request lives here, once, for all transports. Lengths count
// characters (code points), as the original's pydantic limits did.

// maxStop bounds the caller's stop strings (count and length).
const (
	maxStop      = 8
	maxStopChars = 128
)

// validate checks req against the limits, fills Kind, Task and the canonical
// Language, and returns the first problem's code with every field problem as details.
// The order of the checks fixes the code: language (E4009), then missing fields
// (E4002), then ranges (E4008), then context snippets (E4002 for an empty text, E4010
// for too many or too large).
func (e *Engine) validate(req *Request) *Error {
	var fields []FieldError
	add := func(code Code, field, format string, args ...any) {
		fields = append(fields, FieldError{Field: field, Code: code, Message: fmt.Sprintf(format, args...)})
	}

	if req.Kind == "" {
		req.Kind = KindGeneration
		if req.Prefix != "" && req.Prompt == "" && len(req.Messages) == 0 {
			req.Kind = KindCompletion
		}
	}
	if req.Task == "" {
		req.Task = TaskGeneration
		if req.Kind == KindCompletion {
			req.Task = TaskCompletion
		}
	}

	if msg := e.resolveLanguage(req); msg != "" {
		add(CodeUnsupportedLang, "language", "%s", msg)
	}

	switch req.Kind {
	case KindCompletion:
		if strings.TrimSpace(req.Prefix) == "" {
			add(CodeMissingField, "prefix", "is required")
		}
	case KindGeneration:
		switch {
		case len(req.Messages) > 0:
			for i, m := range req.Messages {
				switch m.Role {
				case "system", "user", "assistant":
				default:
					add(CodeOutOfRange, fmt.Sprintf("messages[%d].role", i), "must be system, user or assistant")
				}
			}
		case strings.TrimSpace(req.Prompt) == "":
			add(CodeMissingField, "prompt", "is required")
		}
	default:
		add(CodeOutOfRange, "kind", "must be completion or generation")
	}

	c := e.cfg
	tooLong := func(field, v string, max int) {
		if n := utf8.RuneCountInString(v); n > max {
			add(CodeOutOfRange, field, "must be at most %d characters (got %d)", max, n)
		}
	}
	tooLong("prompt", req.Prompt, c.MaxPromptChars)
	tooLong("context", req.Context, c.MaxContextChars)
	tooLong("prefix", req.Prefix, c.MaxPrefixChars)
	tooLong("suffix", req.Suffix, c.MaxSuffixChars)
	tooLong("file_path", req.FilePath, c.MaxFilePathChars)
	if n := messagesChars(req.Messages); n > c.MaxPromptChars+c.MaxContextChars {
		add(CodeOutOfRange, "messages", "must hold at most %d characters (got %d)", c.MaxPromptChars+c.MaxContextChars, n)
	}

	if req.Model == "" {
		if _, ok := e.adapters[req.Task]; !ok {
			add(CodeOutOfRange, "model_type", "unknown model_type %q", req.Task)
		}
	}
	if req.MaxTokens < 0 || req.MaxTokens > c.MaxTokensLimit {
		add(CodeOutOfRange, "max_tokens", "must be between 1 and %d", c.MaxTokensLimit)
	}
	if t := req.Temperature; t != nil && (math.IsNaN(*t) || *t < 0 || *t > 2) {
		add(CodeOutOfRange, "temperature", "must be between 0 and 2")
	}
	if p := req.TopP; p != nil && (math.IsNaN(*p) || *p <= 0 || *p > 1) {
		add(CodeOutOfRange, "top_p", "must be greater than 0 and at most 1")
	}
	if len(req.Stop) > maxStop {
		add(CodeOutOfRange, "stop", "at most %d stop strings", maxStop)
	}
	for _, s := range req.Stop {
		if s == "" || utf8.RuneCountInString(s) > maxStopChars {
			add(CodeOutOfRange, "stop", "stop strings must be 1 to %d characters", maxStopChars)
			break
		}
	}
	if req.Profile != nil {
		p, bad := NormalizeProfile(*req.Profile, "profile.")
		req.Profile = &p
		fields = append(fields, bad...)
	}
	fields = append(fields, e.checkSnippets(req.ContextSnippets)...)

	if len(fields) == 0 {
		return nil
	}
	err := NewError(fields[0].Code, "")
	if len(fields) == 1 {
		err.Message = fields[0].Field + ": " + fields[0].Message
	}
	err.Fields = fields
	return err
}

func messagesChars(ms []vllm.Message) int {
	n := 0
	for _, m := range ms {
		n += utf8.RuneCountInString(m.Content)
	}
	return n
}

// checkSnippets checks the context snippets' count and sizes (docs/api.md, "Context
// snippets"). Past the count nothing else is checked: the details stay short.
func (e *Engine) checkSnippets(snips []ContextSnippet) []FieldError {
	c := e.cfg
	if len(snips) > c.MaxSnippets {
		msg := fmt.Sprintf("at most %d snippets (got %d)", c.MaxSnippets, len(snips))
		return []FieldError{{Field: "context_snippets", Code: CodePayloadTooLarge, Message: msg}}
	}
	var fields []FieldError
	total := 0
	for i, s := range snips {
		field := fmt.Sprintf("context_snippets[%d]", i)
		n := utf8.RuneCountInString(s.Text)
		total += n
		switch {
		case strings.TrimSpace(s.Text) == "":
			fields = append(fields, FieldError{Field: field + ".text", Code: CodeMissingField, Message: "is required"})
		case n > c.MaxSnippetChars:
			fields = append(fields, FieldError{Field: field + ".text", Code: CodePayloadTooLarge,
				Message: fmt.Sprintf("must be at most %d characters (got %d)", c.MaxSnippetChars, n)})
		}
		if n := utf8.RuneCountInString(s.Path); n > c.MaxFilePathChars {
			fields = append(fields, FieldError{Field: field + ".path", Code: CodeOutOfRange,
				Message: fmt.Sprintf("must be at most %d characters (got %d)", c.MaxFilePathChars, n)})
		}
	}
	if total > c.MaxSnippetsChars {
		fields = append(fields, FieldError{Field: "context_snippets", Code: CodePayloadTooLarge,
			Message: fmt.Sprintf("must hold at most %d characters in all (got %d)", c.MaxSnippetsChars, total)})
	}
	return fields
}
