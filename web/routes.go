package web

import (
	"net/http"

	"github.com/hapa-project/hapa/realtime"
)

// routes lists every URL HAPA serves; reading it tells the whole HTTP surface
// (DESIGN.md §4). Handlers live in files named after their group.
func (s *Server) routes(mux *http.ServeMux) {
	// Info and health (no auth).
	mux.HandleFunc("GET /{$}", s.handleInfo)
	mux.HandleFunc("GET /health", s.handleHealth)
	mux.HandleFunc("GET /api/v1/health", s.handleHealth)
	mux.HandleFunc("GET /readyz", s.handleReady)
	mux.HandleFunc("GET /livez", s.handleLive)

	// Code generation, extension contract (contract §3.2) — added by the code routes:
	//   POST /api/v1/code/generate/stream[?enhanced=true]  (SSE; errors via writeSSEError)
	//   POST /api/v1/code/generate
	//   POST /api/v1/code/complete
	//   GET  /api/v1/code/models, GET /api/v1/code/health, POST /api/v1/code/test
	// Code generation, legacy / seed README (contract §3.3, §3.9):
	//   POST /api/v1/code/enhanced-stream-generate, POST /api/v1/enhanced-stream-generate (SSE)
	//   POST /api/v1/generate-code
	// ---- code routes go here ----
	gen, cmp := ScopeCodeGeneration, ScopeCodeCompletion
	gGen, gStream, gCmp, gDef := codeLimitGroups()
	up := s.codeUpstream()
	mux.Handle("POST /api/v1/code/generate/stream", s.sseAuthed(s.limitSSE(gStream, s.handleCodeStream), gen))
	mux.Handle("POST /api/v1/code/generate", s.authed(s.limitInEngine(gGen, s.handleCodeGenerate), gen))
	mux.Handle("POST /api/v1/code/complete", s.authed(s.limitInEngine(gCmp, s.handleCodeComplete), cmp))
	mux.Handle("GET /api/v1/code/models", s.authed(s.limit(gDef, s.handleCodeModels(up))))
	mux.Handle("GET /api/v1/code/health", s.authed(s.limit(gDef, s.handleCodeHealth(up))))
	mux.Handle("POST /api/v1/code/test", s.authed(s.limit(gGen, s.handleCodeTest), gen))
	mux.Handle("GET /api/v1/code/backend/status", s.authed(s.limit(gDef, s.handleBackendStatus(up))))
	mux.Handle("POST /api/v1/code/backend/switch", s.authed(s.limit(gDef, s.handleBackendSwitch)))
	mux.Handle("POST /api/v1/code/enhanced-stream-generate", s.sseAuthed(s.limitSSE(gStream, s.handleLegacyStream), gen))
	mux.Handle("POST /api/v1/enhanced-stream-generate", s.sseAuthed(s.limitSSE(gStream, s.handleLegacyStream), gen))
	mux.Handle("POST /api/v1/generate-code", s.authed(s.limitInEngine(gGen, s.handleGenerateCode), gen))
	// ---- end of code routes ----

	// Users and onboarding (extension, single prefix; contract §3.4).
	mux.Handle("POST /api/v1/users/login", s.limit(realtime.GroupAuth, s.handleLogin))
	mux.Handle("POST /api/v1/users/profile", s.userAuthed(s.handleProfile))
	mux.Handle("GET /api/v1/users/me", s.userAuthed(s.handleMe))
	mux.Handle("GET /api/v1/users/settings", s.userAuthed(s.handleSettingsGet))
	mux.Handle("POST /api/v1/users/settings", s.userAuthed(s.handleSettingsPost))
	mux.Handle("POST /api/v1/users/generate-api-key", s.limit(realtime.GroupAuth, s.handleGenerateKey)) // JWT/key, or e-mail with SelfSignup

	// Operations (admin scope; DESIGN.md §4) — added by the ops routes:
	//   GET /api/v1/errors/dashboard, GET /api/v1/errors/patterns, GET /api/v1/errors/incidents/{id}
	//   GET /api/v1/analytics/performance, DELETE /api/v1/cache/clear, GET /api/v1/config/status
	// ---- ops routes go here ----
	s.opsRoutes(mux) // ops: web/ops.go (also GET /openapi.json, GET /docs)

	// OpenAI-compatible routes — added with the OpenAI issue:
	//   POST /v1/chat/completions, POST /v1/completions, GET /v1/models
	// ---- OpenAI routes go here ----
	// Errors use OpenAI's envelope; scopes and limits depend on the model (openai_handler.go).
	mux.Handle("POST /v1/chat/completions", s.openAIAuthed(s.handleOpenAIChat))
	mux.Handle("POST /v1/completions", s.openAIAuthed(s.handleOpenAICompletions))
	mux.Handle("GET /v1/models", s.openAIAuthed(s.handleOpenAIModelsList))
	mux.Handle("GET /v1/models/{id...}", s.openAIAuthed(s.handleOpenAIModelsList))
	// ---- end of OpenAI routes ----

	// Observability: GET /metrics (Deps.Metrics); GET /openapi.json, GET /docs go here.
	if s.deps.Metrics != nil {
		mux.Handle("GET /metrics", s.deps.Metrics)
	}

	// Realtime WebSocket (DESIGN.md §3), built by cmd/hapa from realtime.Hub.
	if s.deps.Realtime != nil {
		mux.Handle("GET /api/v1/realtime", s.deps.Realtime)
	}

	// Admin console; it sets its own CSP and authenticates its own sessions.
	if s.deps.Admin != nil {
		mux.Handle("/admin/", s.deps.Admin)
	}

	if s.deps.Static != nil {
		mux.Handle("GET /static/", s.deps.Static)
	}

	// DB-module routes the extension calls directly (contract §6.1), on the same mux.
	s.dbModuleRoutes(mux)
}

// dbModuleRoutes lists the DB-module routes (contract §6.1), served on the main mux
// and, with dbModuleOnly's, by DBModuleHandler.
func (s *Server) dbModuleRoutes(mux *http.ServeMux) {
	mux.Handle("POST /auth/login", s.limit(realtime.GroupAuth, s.handleLogin))
	mux.Handle("POST /auth/refresh", s.limit(realtime.GroupAuth, s.handleRefresh))
	mux.HandleFunc("POST /auth/logout", s.handleLogout)
	mux.Handle("GET /users/me", s.userAuthed(s.handleMe))
	mux.Handle("GET /settings/options", s.userAuthed(s.handleSettingsOptions))
	mux.Handle("GET /settings/me", s.userAuthed(s.handleSettingsGet))
	mux.Handle("POST /settings/me", s.userAuthed(s.handleSettingsMePost))

	mux.Handle("POST /history/sessions", s.userAuthed(s.handleSessionCreate, ScopeHistory))
	mux.Handle("GET /history/sessions", s.userAuthed(s.handleSessionList, ScopeHistory))
	mux.Handle("GET /history/sessions/{session_id}", s.userAuthed(s.handleSessionEntries, ScopeHistory))
	mux.Handle("DELETE /history/sessions/{session_id}", s.userAuthed(s.handleSessionDelete, ScopeHistory))
	mux.Handle("POST /history/entries", s.userAuthed(s.handleEntryCreate, ScopeHistory))
	mux.Handle("POST /history/search", s.userAuthed(s.handleSearch, ScopeHistory))
	mux.Handle("GET /history/stats", s.userAuthed(s.handleStats, ScopeHistory))
	mux.HandleFunc("GET /history/health", s.handleHistoryHealth)
}

// dbModuleOnly adds what the DB-module port serves besides dbModuleRoutes (on the main
// mux these come from routes).
func (s *Server) dbModuleOnly(mux *http.ServeMux) {
	mux.HandleFunc("GET /{$}", s.handleInfo)
	mux.HandleFunc("GET /health", s.handleHealth)
	mux.HandleFunc("GET /readyz", s.handleReady)
}
