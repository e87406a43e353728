package web

import (
	"net/http"
	"time"

	"github.com/hapa-project/hapa/realtime"
)

// modelCatalog is the part of the engine the information routes read when the
// upstream snapshot has no adapter table; *realtime.Engine implements it.
type modelCatalog interface {
	Models() realtime.ModelCatalog
}

// withCatalog fills the adapter table and base model from the engine when st lacks
// them.
func (s *Server) withCatalog(st UpstreamStatus) UpstreamStatus {
	mc, ok := s.deps.Engine.(modelCatalog)
	if !ok {
		return st
	}
	cat := mc.Models()
	if st.Adapters == nil {
		st.Adapters = cat.Tasks
	}
	if st.BaseModel == "" {
		st.BaseModel = cat.BaseModel
	}
	return st
}

// codeUpstream is the Upstream of the information routes (Deps.Upstream; nil
// answers "not_configured").
func (s *Server) codeUpstream() Upstream { return s.deps.Upstream }

type modelsResponse struct {
	VLLMServerStatus string                       `json:"vllm_server_status"`
	AvailableModels  []string                     `json:"available_models"`
	ModelMapping     map[string]modelMappingEntry `json:"model_mapping"`
	ServerInfo       serverInfo                   `json:"server_info"`
	// CompletionLanguages are the languages /code/complete accepts (docs/api.md,
	// "Programming languages"); generation takes Python.
	CompletionLanguages []string `json:"completion_languages"`
	Timestamp           string   `json:"timestamp"`
}

type serverInfo struct {
	BaseModel string          `json:"base_model"`
	Simulator bool            `json:"simulator"`
	Replicas  []ReplicaStatus `json:"replicas"`
	Error     string          `json:"error,omitempty"`
}

// handleCodeModels serves GET /api/v1/code/models from the replicas' /v1/models.
func (s *Server) handleCodeModels(up Upstream) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, ok := s.upstreamStatus(r, up)
		st = s.withCatalog(st)
		b := modelsResponse{
			VLLMServerStatus: upstreamState(st, ok), AvailableModels: st.Models,
			ModelMapping:        modelMapping(st.Adapters),
			ServerInfo:          serverInfo{BaseModel: st.BaseModel, Simulator: st.Simulator, Replicas: st.Replicas},
			CompletionLanguages: []string{"python"},
			Timestamp:           s.isoTime(),
		}
		if mc, ok := s.deps.Engine.(modelCatalog); ok {
			b.CompletionLanguages = mc.Models().CompletionLanguages
		}
		if b.AvailableModels == nil {
			b.AvailableModels = []string{}
		}
		if b.ServerInfo.Replicas == nil {
			b.ServerInfo.Replicas = []ReplicaStatus{}
		}
		if st.ModelsErr != nil {
			b.ServerInfo.Error = "listing models failed"
			s.log.WarnContext(r.Context(), "code/models: listing failed", "err", st.ModelsErr)
		}
		writeJSON(w, http.StatusOK, b)
	}
}

type codeHealthResponse struct {
	VLLMServer        vllmServerHealth `json:"vllm_server"`
	AvailableModels   []string         `json:"available_models"`
	Timestamp         string           `json:"timestamp"`
	IntegrationStatus string           `json:"integration_status"` // active | error
}

type vllmServerHealth struct {
	Status    string        `json:"status"` // healthy | unhealthy | not_configured
	Timestamp string        `json:"timestamp"`
	Details   healthDetails `json:"details"`
}

type healthDetails struct {
	Connected          bool            `json:"connected"`
	BaseURL            string          `json:"base_url"`
	TotalRequests      int64           `json:"total_requests"`
	FailedRequests     int64           `json:"failed_requests"`
	SuccessfulRequests int64           `json:"successful_requests"`
	Replicas           []ReplicaStatus `json:"replicas"`
	Simulator          bool            `json:"simulator"`
}

// handleCodeHealth serves GET /api/v1/code/health: the replicas' health as the pool
// sees it (no extra probe per request: the pool probes in the background).
func (s *Server) handleCodeHealth(up Upstream) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, ok := s.upstreamStatus(r, up)
		ts := s.isoTime()
		d := healthDetails{Connected: st.Healthy, Replicas: st.Replicas, Simulator: st.Simulator}
		for _, rep := range st.Replicas {
			if d.BaseURL == "" {
				d.BaseURL = rep.URL
			}
			d.TotalRequests += rep.Requests
			d.FailedRequests += rep.Failures
		}
		d.SuccessfulRequests = d.TotalRequests - d.FailedRequests
		if d.Replicas == nil {
			d.Replicas = []ReplicaStatus{}
		}
		b := codeHealthResponse{
			VLLMServer:      vllmServerHealth{Status: upstreamState(st, ok), Timestamp: ts, Details: d},
			AvailableModels: st.Models, Timestamp: ts, IntegrationStatus: "error",
		}
		if b.AvailableModels == nil {
			b.AvailableModels = []string{}
		}
		if st.Healthy && s.deps.Engine != nil {
			b.IntegrationStatus = "active"
		}
		writeJSON(w, http.StatusOK, b)
	}
}

type codeTestResponse struct {
	TestStatus          string     `json:"test_status"` // success | failed
	ResponseTimeSeconds float64    `json:"response_time_seconds"`
	ModelUsed           string     `json:"model_used"`
	OutputLength        int        `json:"output_length"`
	ErrorMessage        string     `json:"error_message"`
	ErrorCode           string     `json:"error_code,omitempty"`
	TokenUsage          tokenUsage `json:"token_usage"`
	Timestamp           string     `json:"timestamp"`
}

// testPrompt is the tiny real generation of POST /code/test.
const testPrompt = "Write a Python function that returns the sum of two numbers."

// handleCodeTest serves POST /api/v1/code/test?model_type=: one small real generation
// (16 tokens, cache bypassed). The body ({test_prompt}) is ignored, as in the original.
// A failed generation is the test's result, so it answers 200 with test_status
// "failed"; a bad model_type is 422.
func (s *Server) handleCodeTest(w http.ResponseWriter, r *http.Request) {
	task := r.URL.Query().Get("model_type")
	if task == "" {
		task = realtime.TaskGeneration
	}
	var v validator
	v.oneOf("model_type", task, modelTypes...)
	if err := v.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	req := baseRequest(r, realtime.KindGeneration, task)
	req.Prompt, req.MaxTokens, req.NoCache = testPrompt, 16, true
	t0 := time.Now()
	text, done, err := s.generate(r.Context(), req)
	b := codeTestResponse{TestStatus: "success", ResponseTimeSeconds: seconds(time.Since(t0)),
		ModelUsed: done.Model, OutputLength: len([]rune(text)), TokenUsage: usageOf(done), Timestamp: s.isoTime()}
	if err != nil {
		e := realtime.AsError(err)
		b.TestStatus, b.ErrorMessage, b.ErrorCode = "failed", e.Message, string(e.Code)
	}
	writeJSON(w, http.StatusOK, b)
}

// handleBackendStatus serves GET /api/v1/code/backend/status, which the extension
// calls although no original backend had it: HAPA has one backend type, vLLM.
func (s *Server) handleBackendStatus(up Upstream) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		st, ok := s.upstreamStatus(r, up)
		writeJSON(w, http.StatusOK, backendStatusBody{BackendType: "vllm", AvailableBackends: []string{"vllm"},
			Status: upstreamState(st, ok), Switchable: false, Timestamp: s.isoTime()})
	}
}

// handleBackendSwitch serves POST /api/v1/code/backend/switch: 200 with success:false,
// since there is nothing to switch to (the extension falls back silently either way,
// and a 200 keeps its log free of errors).
func (s *Server) handleBackendSwitch(w http.ResponseWriter, r *http.Request) {
	writeJSON(w, http.StatusOK, backendSwitchBody{Success: false, BackendType: "vllm", Message: "only vllm", Timestamp: s.isoTime()})
}
