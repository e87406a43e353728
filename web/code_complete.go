package web

import (
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/hapa-project/hapa/realtime"
)

// completionRequest is the body of POST /api/v1/code/complete (docs/compatibility.md,
// "Completion"). The extension sends the code after the cursor as `context`; it is the
// suffix when `suffix` is absent.
type completionRequest struct {
	Prefix         *string `json:"prefix"`
	Suffix         *string `json:"suffix"`
	Context        *string `json:"context"`
	Language       string  `json:"language"`
	FilePath       string  `json:"file_path"`
	CursorPosition *int    `json:"cursor_position"`
	MaxSuggestions *int    `json:"max_suggestions"`
	CompletionType string  `json:"completion_type"`
	IncludeImports *bool   `json:"include_imports"`
	MaxTokens      *int    `json:"max_tokens"`
	// ContextSnippets are neighbouring files or recent edits (docs/api.md, "Context
	// snippets"), ranked against the code around the cursor and packed into the
	// prompt within the context budget.
	ContextSnippets []realtime.ContextSnippet `json:"context_snippets"`
}

func (b *completionRequest) validate() error {
	var v validator
	if v.required("prefix", b.Prefix != nil) && v.requiredString("prefix", *b.Prefix) {
		v.maxLen("prefix", *b.Prefix, maxPrefixChars)
	}
	if s := b.suffix(); s != "" {
		field := "suffix"
		if b.Suffix == nil {
			field = "context"
		}
		v.maxLen(field, s, maxSuffixChars)
	}
	if b.CursorPosition != nil && *b.CursorPosition < 0 {
		v.add("cursor_position", realtime.CodeOutOfRange, "must not be negative")
	}
	if b.MaxSuggestions != nil {
		v.intRange("max_suggestions", *b.MaxSuggestions, 1, 20)
	}
	v.oneOf("completion_type", b.CompletionType, "inline", "block", "function")
	v.maxLen("file_path", b.FilePath, maxFilePathChars)
	checkSampling(&v, nil, nil, b.MaxTokens)
	return v.err()
}

func (b *completionRequest) suffix() string {
	switch {
	case b.Suffix != nil:
		return *b.Suffix
	case b.Context != nil:
		return *b.Context
	}
	return ""
}

// completionItem is the extension's shape; suggestionItem the final backend's.
type completionItem struct {
	Code        string  `json:"code"`
	Label       string  `json:"label"`
	Description string  `json:"description"`
	Confidence  float64 `json:"confidence"`
}

type suggestionItem struct {
	Text           string  `json:"text"`
	Confidence     float64 `json:"confidence"`
	CompletionType string  `json:"completion_type"`
	Documentation  *string `json:"documentation"`
}

type completionResponse struct {
	Success          bool             `json:"success"`
	Completions      []completionItem `json:"completions"`
	Suggestions      []suggestionItem `json:"suggestions"`
	Status           string           `json:"status"`
	ContextAnalysis  contextAnalysis  `json:"context_analysis"`
	ProcessingTime   float64          `json:"processing_time"`
	ModelUsed        string           `json:"model_used"`
	TokenUsage       tokenUsage       `json:"token_usage"`
	ErrorMessage     string           `json:"error_message"`
	Timestamp        string           `json:"timestamp"`
	CompletionLength int              `json:"completion_length"`
	CacheHit         bool             `json:"cache_hit"`
	RequestID        string           `json:"request_id"`
	// CompletionID names the completion in feedback (docs/api.md, "Completion feedback").
	CompletionID string `json:"completion_id,omitempty"`
}

// completionConfidence is the fixed confidence of every suggestion. It is not a model
// probability (HAPA has none to report): the field exists because the extension
// filters suggestions below its confidenceThreshold (0.3 by default).
const completionConfidence = 1.0

// handleCodeComplete serves POST /api/v1/code/complete: one FIM completion on the
// autocomplete adapter. The first suggestion is the whole completion; a multi-line
// completion adds its first line as a second, shorter suggestion; at most
// max_suggestions are returned.
func (s *Server) handleCodeComplete(w http.ResponseWriter, r *http.Request) {
	t0 := time.Now()
	var body completionRequest
	if err := decodeJSON(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := body.validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	req := baseRequest(r, realtime.KindCompletion, realtime.TaskCompletion)
	req.Prefix, req.Suffix = *body.Prefix, body.suffix()
	req.Language, req.FilePath, req.ContextSnippets = body.Language, body.FilePath, body.ContextSnippets
	if body.MaxTokens != nil {
		req.MaxTokens = *body.MaxTokens
	}
	text, done, err := s.generate(r.Context(), req)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	max := 5
	if body.MaxSuggestions != nil {
		max = *body.MaxSuggestions
	}
	resp := completionResponse{
		Success: true, Status: "success", ContextAnalysis: analyseContext(*body.Prefix),
		ProcessingTime: seconds(time.Since(t0)), ModelUsed: done.Model, TokenUsage: usageOf(done),
		Timestamp: s.isoTime(), CompletionLength: utf8.RuneCountInString(text), CacheHit: done.Cached,
		RequestID: requestIDFrom(r.Context()), CompletionID: done.CompletionID,
		Completions: []completionItem{}, Suggestions: []suggestionItem{},
	}
	for i, c := range completionCandidates(text) {
		if i >= max {
			break
		}
		desc := "HAPA completion"
		if i > 0 {
			desc = "HAPA completion (first line)"
		}
		kind := "inline"
		if strings.Contains(strings.TrimRight(c, "\n"), "\n") {
			kind = "block"
		}
		resp.Completions = append(resp.Completions, completionItem{Code: c, Label: label(c), Description: desc, Confidence: completionConfidence})
		resp.Suggestions = append(resp.Suggestions, suggestionItem{Text: c, Confidence: completionConfidence, CompletionType: kind})
	}
	writeJSON(w, http.StatusOK, resp)
}

// completionCandidates is the whole completion, then its first line when it has more.
func completionCandidates(text string) []string {
	if strings.TrimSpace(text) == "" {
		return nil
	}
	out := []string{text}
	if first, rest, ok := strings.Cut(text, "\n"); ok && strings.TrimSpace(rest) != "" && strings.TrimSpace(first) != "" {
		out = append(out, first)
	}
	return out
}

// label is the first non-blank line of c, at most 40 characters.
func label(c string) string {
	for _, l := range strings.Split(c, "\n") {
		if l = strings.TrimSpace(l); l != "" {
			if utf8.RuneCountInString(l) > 40 {
				l = string([]rune(l)[:39]) + "…"
			}
			return l
		}
	}
	return ""
}
