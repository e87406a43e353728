package web

import (
	"net/http"

	"github.com/hapa-project/hapa/realtime/limits"
)

// routes lists every URL HAPA serves; reading it tells the whole HTTP surface
// (docs/api.md). Handlers live in files named after their group.
func (s *Server) routes(mux *http.ServeMux) {
	// Info and health (no auth).
	mux.HandleFunc("GET /{$}", s.handleInfo)
	mux.HandleFunc("GET /health", s.handleHealth)
	mux.HandleFunc("GET /api/v1/health", s.handleHealth)
	mux.HandleFunc("GET /readyz", s.handleReady)
	mux.HandleFunc("GET /livez", s.handleLive)

	// Code generation for the VS Code extension (docs/compatibility.md, "Code generation
	// routes"). The SSE routes answer errors as an SSE body (writeSSEError); the one-shot
	// routes' rate limit runs inside the engine, beside a Redis cache read (limitInEngine).
	gen, cmp := ScopeCodeGeneration, ScopeCodeCompletion
	gGen, gStream, gCmp, gDef := codeLimitGroups()
	up := s.codeUpstream()
	mux.Handle("POST /api/v1/code/generate/stream", s.sseAuthed(s.limitSSE(gStream, s.handleCodeStream), gen))
	mux.Handle("POST /api/v1/code/generate", s.authed(s.limitInEngine(gGen, s.handleCodeGenerate), gen))
	mux.Handle("POST /api/v1/code/complete", s.authed(s.limitInEngine(gCmp, s.handleCodeComplete), cmp))
	// Completion feedback: every report names a completion the caller received, which
	// bounds the volume without a rate limit of its own (docs/api.md).
	mux.Handle("POST /api/v1/completions/events", s.authed(s.handleCompletionEvents))
	mux.Handle("GET /api/v1/code/models", s.authed(s.limit(gDef, s.handleCodeModels(up))))
	mux.Handle("GET /api/v1/code/health", s.authed(s.limit(gDef, s.handleCodeHealth(up))))
	mux.Handle("POST /api/v1/code/test", s.authed(s.limit(gGen, s.handleCodeTest), gen))
	mux.Handle("GET /api/v1/code/backend/status", s.authed(s.limit(gDef, s.handleBackendStatus(up))))
	mux.Handle("POST /api/v1/code/backend/switch", s.authed(s.limit(gDef, s.handleBackendSwitch)))

	// Code generation of the landing page and the seed README (docs/compatibility.md,
	// "Legacy routes").
	mux.Handle("POST /api/v1/code/enhanced-stream-generate", s.sseAuthed(s.limitSSE(gStream, s.handleLegacyStream), gen))
	mux.Handle("POST /api/v1/enhanced-stream-generate", s.sseAuthed(s.limitSSE(gStream, s.handleLegacyStream), gen))
	mux.Handle("POST /api/v1/generate-code", s.authed(s.limitInEngine(gGen, s.handleGenerateCode), gen))

	// Users and onboarding (extension, single prefix; docs/compatibility.md, "Users and
	// onboarding").
	mux.Handle("POST /api/v1/users/login", s.limit(limits.GroupAuth, s.needsDB(s.handleLogin)))
	mux.Handle("POST /api/v1/users/profile", s.userAuthed(s.handleProfile))
	mux.Handle("GET /api/v1/users/me", s.userAuthed(s.handleMe))
	mux.Handle("GET /api/v1/users/settings", s.userAuthed(s.handleSettingsGet))
	mux.Handle("POST /api/v1/users/settings", s.userAuthed(s.handleSettingsPost))
	mux.Handle("POST /api/v1/users/generate-api-key", s.limit(limits.GroupAuth, s.needsDB(s.handleGenerateKey))) // JWT/key, or e-mail with SelfSignup

	// Operations (admin scope, then the "ops" rate limit; docs/operations.md).
	mux.Handle("GET /api/v1/errors/dashboard", s.opsHandler(s.handleErrorsDashboard))
	mux.Handle("GET /api/v1/errors/patterns", s.opsHandler(s.handleErrorPatterns))
	mux.Handle("GET /api/v1/errors/incidents/{id}", s.opsHandler(s.handleIncident))
	mux.Handle("GET /api/v1/analytics/performance", s.opsHandler(s.handlePerformance))
	mux.Handle("DELETE /api/v1/cache/clear", s.opsHandler(s.handleCacheClear))
	mux.Handle("GET /api/v1/config/status", s.opsHandler(s.handleConfigStatus))
	mux.Handle("GET /api/v1/admin/usage", s.opsHandler(s.handleAdminUsage))
	mux.Handle("GET /api/v1/usage", s.authed(s.limit(limits.GroupDefault, s.handleUsage)))

	// OpenAI-compatible routes. Errors use OpenAI's envelope; scopes and limits depend
	// on the model (openai_handler.go).
	mux.Handle("POST /v1/chat/completions", s.openAIAuthed(s.handleOpenAIChat))
	mux.Handle("POST /v1/completions", s.openAIAuthed(s.handleOpenAICompletions))
	mux.Handle("GET /v1/models", s.openAIAuthed(s.handleOpenAIModelsList))
	mux.Handle("GET /v1/models/{id...}", s.openAIAuthed(s.handleOpenAIModelsList))

	// Observability and the API's own description.
	if s.deps.Metrics != nil {
		mux.Handle("GET /metrics", s.deps.Metrics)
	}
	mux.HandleFunc("GET /openapi.json", s.handleOpenAPI)
	mux.HandleFunc("GET /docs", s.handleDocs)

	// The editor WebSocket (docs/protocol.md), served by realtime/ws's Hub.
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

	// DB-module routes the extension calls directly, on the same mux.
	s.dbModuleRoutes(mux)
}

// dbModuleRoutes lists the DB-module routes (docs/compatibility.md, "DB-module
// routes"), served on the main mux
// and, with dbModuleOnly's, by DBModuleHandler.
func (s *Server) dbModuleRoutes(mux *http.ServeMux) {
	mux.Handle("POST /auth/login", s.limit(limits.GroupAuth, s.needsDB(s.handleLogin)))
	mux.Handle("POST /auth/refresh", s.limit(limits.GroupAuth, s.needsDB(s.handleRefresh)))
	mux.HandleFunc("POST /auth/logout", s.needsDB(s.handleLogout))
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
