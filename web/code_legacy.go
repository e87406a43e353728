package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/hapa-project/hapa/realtime"
)

// legacyRequest is the ERA-A body (docs/compatibility.md, "Legacy routes") of the
// landing page's enhanced-stream-generate routes and of the seed README's
// generate-code. `stream` is accepted and ignored: the stream routes always stream,
// generate-code never does.
type legacyRequest struct {
	UserQuestion *string           `json:"user_question"`
	CodeContext  string            `json:"code_context"`
	Language     string            `json:"language"`
	FilePath     string            `json:"file_path"`
	Stream       *bool             `json:"stream"`
	UserProfile  *realtime.Profile `json:"userProfile"`
	UserProfile2 *realtime.Profile `json:"user_profile"`
	ModelType    string            `json:"model_type"`
}

// validate checks the body; maxQuestion is 2000 (stream) or 10000 (generate-code).
// The engine then applies its own prompt limit (4000 by default) on top.
func (b *legacyRequest) validate(maxQuestion int) error {
	var v validator
	if v.required("user_question", b.UserQuestion != nil) && v.requiredString("user_question", *b.UserQuestion) {
		v.maxLen("user_question", *b.UserQuestion, maxQuestion)
	}
	v.maxLen("code_context", b.CodeContext, maxCodeContextChars)
	v.maxLen("file_path", b.FilePath, maxFilePathChars)
	if strings.ContainsAny(b.FilePath, "<>|*?") {
		v.add("file_path", realtime.CodeOutOfRange, "must not contain < > | * ?")
	}
	v.oneOf("model_type", b.ModelType, modelTypes...)
	return v.err()
}

func (b *legacyRequest) engineRequest(r *http.Request) realtime.Request {
	task := b.ModelType
	if task == "" {
		task = realtime.TaskGeneration
	}
	req := baseRequest(r, realtime.KindGeneration, task)
	req.Prompt = strings.TrimSpace(*b.UserQuestion)
	req.Context, req.Language, req.FilePath = b.CodeContext, b.Language, b.FilePath
	switch {
	case b.UserProfile != nil:
		req.Profile = b.UserProfile
	case b.UserProfile2 != nil:
		req.Profile = b.UserProfile2
	}
	return req
}

// handleLegacyStream serves POST /api/v1/code/enhanced-stream-generate and
// POST /api/v1/enhanced-stream-generate (the landing page): metadata, start, one
// `code` event per delta, done, stream_end, [DONE].
func (s *Server) handleLegacyStream(w http.ResponseWriter, r *http.Request) {
	var body legacyRequest
	if err := decodeJSON(r, &body); err != nil {
		s.writeSSEError(w, r, err)
		return
	}
	if err := body.validate(maxQuestionChars); err != nil {
		s.writeSSEError(w, r, err)
		return
	}
	s.streamCode(w, r, body.engineRequest(r), sseStyle{textType: "code", legacy: true})
}

type generateCodeResponse struct {
	GeneratedCode  string     `json:"generated_code"`
	Explanation    string     `json:"explanation"`
	Status         string     `json:"status"`
	ResponseTimeMs int64      `json:"response_time_ms"`
	ErrorMessage   string     `json:"error_message"`
	ModelUsed      string     `json:"model_used"`
	TokenUsage     tokenUsage `json:"token_usage"`
	Cached         bool       `json:"cached"`
	RequestID      string     `json:"request_id"`
}

// handleGenerateCode serves POST /api/v1/generate-code (seed README §3.9).
func (s *Server) handleGenerateCode(w http.ResponseWriter, r *http.Request) {
	t0 := time.Now()
	var body legacyRequest
	if err := decodeJSON(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := body.validate(maxLongQuestionChars); err != nil {
		s.writeError(w, r, err)
		return
	}
	text, done, err := s.generate(r.Context(), body.engineRequest(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	code, expl := splitCode(text)
	writeJSON(w, http.StatusOK, generateCodeResponse{
		GeneratedCode: code, Explanation: expl, Status: "success",
		ResponseTimeMs: time.Since(t0).Milliseconds(), ModelUsed: done.Model, TokenUsage: usageOf(done),
		Cached: done.Cached, RequestID: requestIDFrom(r.Context()),
	})
}
