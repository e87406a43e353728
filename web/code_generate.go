package web

import (
	"net/http"
	"time"
)

// codeGenerationResponse is the body of POST /api/v1/code/generate
// (docs/compatibility.md, "One-shot"). The original's confidence_score (a keyword
// heuristic) is not sent: HAPA has no model confidence to report. token_usage holds
// vLLM's real counts.
type codeGenerationResponse struct {
	Success            bool       `json:"success"`
	GeneratedCode      string     `json:"generated_code"`
	Explanation        string     `json:"explanation"`
	ModelUsed          string     `json:"model_used"`
	ProcessingTime     float64    `json:"processing_time"`
	TokenUsage         tokenUsage `json:"token_usage"`
	ErrorMessage       string     `json:"error_message"`
	TranslationApplied bool       `json:"translation_applied"`
	Timestamp          string     `json:"timestamp"`
	RequestID          string     `json:"request_id"`
	Cached             bool       `json:"cached"`
	Coalesced          bool       `json:"coalesced"`
	FinishReason       string     `json:"finish_reason"`
}

// handleCodeGenerate serves POST /api/v1/code/generate: the same generation as the
// stream route, returned whole. Failures use the real HTTP status and the error body
// (the original answered 200 with success:false).
func (s *Server) handleCodeGenerate(w http.ResponseWriter, r *http.Request) {
	t0 := time.Now()
	var body codeGenerationRequest
	if err := decodeJSON(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	if err := body.validate(); err != nil {
		s.writeError(w, r, err)
		return
	}
	text, done, err := s.generate(r.Context(), body.engineRequest(r))
	if err != nil {
		s.fail(w, r, err)
		return
	}
	code, expl := splitCode(text)
	writeJSON(w, http.StatusOK, codeGenerationResponse{
		Success: true, GeneratedCode: code, Explanation: expl, ModelUsed: done.Model,
		ProcessingTime: seconds(time.Since(t0)), TokenUsage: usageOf(done),
		Timestamp: s.isoTime(), RequestID: requestIDFrom(r.Context()),
		Cached: done.Cached, Coalesced: done.Coalesced, FinishReason: done.FinishReason,
	})
}

// fail writes err unless the client has already gone (its request context ended),
// in which case nobody would read the answer and nothing is recorded.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	if r.Context().Err() != nil {
		return
	}
	s.writeError(w, r, err)
}
