package web

import (
	"net/http"
	"time"
)

type infoBackends struct {
	BackendType string `json:"backend_type"`
	VLLM        struct {
		Available bool `json:"available"`
	} `json:"vllm"`
}

type infoBody struct {
	Service     string            `json:"service"`
	Version     string            `json:"version"`
	Status      string            `json:"status"`
	Timestamp   string            `json:"timestamp"`
	Environment string            `json:"environment"`
	AIBackends  infoBackends      `json:"ai_backends"`
	Features    []string          `json:"features"`
	Endpoints   map[string]string `json:"endpoints"`
	DemoKey     bool              `json:"demo_key_enabled"`
}

// handleInfo serves GET /: what this server is and where its main routes are (the
// original's info document, docs/compatibility.md, "Info routes"; the vLLM server URL
// is left out).
func (s *Server) handleInfo(w http.ResponseWriter, r *http.Request) {
	rep := s.report(r.Context())
	b := infoBody{
		Service:     "HAPA (Hancom AI Python Assistant)",
		Version:     s.cfg.Version,
		Status:      "running",
		Timestamp:   s.now().UTC().Format(time.RFC3339),
		Environment: s.cfg.Environment,
		Features: []string{"code_generation", "code_completion", "streaming", "personalization",
			"history", "realtime_websocket", "error_tracking"},
		Endpoints: map[string]string{
			"docs":      "/docs",
			"health":    "/api/v1/health",
			"streaming": "/api/v1/code/generate/stream",
			"sync":      "/api/v1/code/generate",
			"realtime":  "/api/v1/realtime",
		},
		DemoKey: s.cfg.DemoKey,
	}
	b.AIBackends.BackendType = "vllm"
	if rep.AIModel == StateSimulator {
		b.AIBackends.BackendType = "simulator"
	}
	b.AIBackends.VLLM.Available = rep.AIModel == StateAvailable || rep.AIModel == StateSimulator
	writeJSON(w, http.StatusOK, b)
}
