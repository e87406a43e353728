package web

import (
	"net/http"
	"strings"
)

// apiOp documents one REST operation. The OpenAPI document is built from apiOps, so
// adding a route means adding one line here (TestOpenAPIMatchesRoutes lists what is
// missing).
type apiOp struct {
	method, path, tag, summary string
	auth                       string   // "" public, "key" API key or JWT, "admin" admin scope, "user" JWT user
	body                       string   // request schema name in components, "" none
	query                      []string // query parameter names
	sse                        bool     // answers text/event-stream
	group                      string   // rate-limit group, "" none
}

// apiOps lists every REST route of routes.go (and ops.go).
func apiOps() []apiOp {
	return []apiOp{
		{"GET", "/", "health", "Service information", "", "", nil, false, ""},
		{"GET", "/health", "health", "Health: status, version, uptime, services, last_cleanup", "", "", nil, false, ""},
		{"GET", "/api/v1/health", "health", "Health (same as /health)", "", "", nil, false, ""},
		{"GET", "/readyz", "health", "Readiness: 200 when the database answers", "", "", nil, false, ""},
		{"GET", "/livez", "health", "Liveness: 200 while the process answers (no dependency is checked)", "", "", nil, false, ""},

		{"POST", "/api/v1/code/generate/stream", "code", "Stream a code generation (SSE, one data: line per event)", "key", "CodeGenerationRequest", []string{"enhanced"}, true, "stream"},
		{"POST", "/api/v1/code/generate", "code", "Generate code (one response)", "key", "CodeGenerationRequest", nil, false, "generation"},
		{"POST", "/api/v1/code/complete", "code", "Inline completion (answers completions and suggestions)", "key", "CompletionRequest", nil, false, "completion"},
		{"GET", "/api/v1/code/models", "code", "Model types and their adapters", "key", "", nil, false, "default"},
		{"GET", "/api/v1/code/health", "code", "Code service health", "key", "", nil, false, "default"},
		{"POST", "/api/v1/code/test", "code", "Smoke-test the model with a fixed prompt", "key", "", nil, false, "generation"},
		{"GET", "/api/v1/code/backend/status", "code", "Upstream (vLLM) backend status", "key", "", nil, false, "default"},
		{"POST", "/api/v1/code/backend/switch", "code", "Switch the upstream backend (compatibility)", "key", "", nil, false, "default"},
		{"POST", "/api/v1/code/enhanced-stream-generate", "code (legacy)", "Legacy streaming generation (user_question body, SSE)", "key", "LegacyGenerationRequest", nil, true, "stream"},
		{"POST", "/api/v1/enhanced-stream-generate", "code (legacy)", "Legacy streaming generation without /code (SSE)", "key", "LegacyGenerationRequest", nil, true, "stream"},
		{"POST", "/api/v1/generate-code", "code (legacy)", "Seed README generation: generated_code, explanation, status, response_time_ms", "key", "LegacyGenerationRequest", nil, false, "generation"},

		{"POST", "/api/v1/users/login", "users", "Log in with e-mail (and password); returns tokens", "", "LoginRequest", nil, false, "auth"},
		{"POST", "/api/v1/users/profile", "users", "Save the onboarding profile", "user", "Profile", nil, false, ""},
		{"GET", "/api/v1/users/me", "users", "The signed-in user", "user", "", nil, false, ""},
		{"GET", "/api/v1/users/settings", "users", "The user's settings", "user", "", nil, false, ""},
		{"POST", "/api/v1/users/settings", "users", "Update the user's settings", "user", "Settings", nil, false, ""},
		{"POST", "/api/v1/users/generate-api-key", "users", "Issue an API key (shown once)", "user", "", nil, false, "auth"},

		{"GET", "/api/v1/errors/dashboard", "operations", "Error dashboard: totals, 24h error and cancel rates, top codes (class=4xx|5xx|all), recent incidents", "admin", "", []string{"class"}, false, "ops"},
		{"GET", "/api/v1/errors/patterns", "operations", "Incidents per code and time bucket (5m/1h/6h/1d for 1h/24h/7d/30d)", "admin", "", []string{"period"}, false, "ops"},
		{"GET", "/api/v1/errors/incidents/{id}", "operations", "One incident by id (INC-YYYYMMDD-XXXXXXXX)", "admin", "", nil, false, "ops"},
		{"GET", "/api/v1/analytics/performance", "operations", "Latency, TTFT, throughput, cache hit, error and cancel rates and tokens from the request log", "admin", "", []string{"period"}, false, "ops"},
		{"DELETE", "/api/v1/cache/clear", "operations", "Clear a cache (cache_type, confirm:true required)", "admin", "CacheClearRequest", []string{"confirm"}, false, "ops"},
		{"GET", "/api/v1/config/status", "operations", "Effective configuration, secrets redacted, and rate-limit rules", "admin", "", nil, false, "ops"},

		{"GET", "/metrics", "observability", "Prometheus metrics (text exposition format)", "", "", nil, false, ""},
		{"GET", "/openapi.json", "observability", "This OpenAPI 3.1 document", "", "", nil, false, ""},
		{"GET", "/docs", "observability", "Readable API documentation (HTML)", "", "", nil, false, ""},
		{"GET", "/api/v1/realtime", "realtime", "WebSocket upgrade, subprotocol hapa.v1 (docs/protocol.md)", "key", "", nil, false, ""},

		// OpenAI-compatible routes (docs/api.md "OpenAI-compatible API"; errors use OpenAI's envelope).
		{"POST", "/v1/chat/completions", "openai", "OpenAI chat completions (stream: SSE chunks, then data: [DONE])", "key", "OpenAIChatRequest", nil, false, "generation"},
		{"POST", "/v1/completions", "openai", "OpenAI completions; suffix renders the model family's FIM template", "key", "OpenAICompletionRequest", nil, false, "generation"},
		{"GET", "/v1/models", "openai", "Models: base model, adapters, hapa-* aliases (OpenAI list)", "key", "", nil, false, "default"},
		{"GET", "/v1/models/{id}", "openai", "One model by id", "key", "", nil, false, "default"},

		{"POST", "/auth/login", "db-module", "Log in (DB-module contract)", "", "LoginRequest", nil, false, "auth"},
		{"POST", "/auth/refresh", "db-module", "Refresh an access token", "", "", nil, false, "auth"},
		{"POST", "/auth/logout", "db-module", "Log out", "user", "", nil, false, ""},
		{"GET", "/users/me", "db-module", "The signed-in user", "user", "", nil, false, ""},
		{"GET", "/settings/options", "db-module", "Settings option catalogue", "user", "", nil, false, ""},
		{"GET", "/settings/me", "db-module", "The user's selected options", "user", "", nil, false, ""},
		{"POST", "/settings/me", "db-module", "Select options", "user", "Settings", nil, false, ""},
		{"POST", "/history/sessions", "history", "Create a history session", "user", "", nil, false, ""},
		{"GET", "/history/sessions", "history", "List history sessions", "user", "", nil, false, ""},
		{"GET", "/history/sessions/{session_id}", "history", "Entries of one session", "user", "", nil, false, ""},
		{"DELETE", "/history/sessions/{session_id}", "history", "Delete a session", "user", "", nil, false, ""},
		{"POST", "/history/entries", "history", "Add a history entry", "user", "", nil, false, ""},
		{"POST", "/history/search", "history", "Search history", "user", "", nil, false, ""},
		{"GET", "/history/stats", "history", "History statistics", "user", "", nil, false, ""},
		{"GET", "/history/health", "history", "History service health", "", "", nil, false, ""},
	}
}

// openAPIDocument builds the OpenAPI 3.1 document from apiOps.
func (s *Server) openAPIDocument() map[string]any {
	paths := map[string]any{}
	for _, op := range apiOps() {
		item, _ := paths[op.path].(map[string]any)
		if item == nil {
			item = map[string]any{}
			paths[op.path] = item
		}
		item[strings.ToLower(op.method)] = op.operation()
	}
	return map[string]any{
		"openapi": "3.1.0",
		"info": map[string]any{"title": "HAPA gateway API", "version": s.cfg.Version,
			"description": "HAPA: AI coding assistant gateway over vLLM. Errors share one JSON body " +
				"(detail, message, error_message, error_code, status, timestamp, path, request_id, incident_id for 5xx). " +
				"Rate-limited routes send X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset; 429 adds Retry-After."},
		"paths":      paths,
		"components": openAPIComponents(),
		"tags": []map[string]any{{"name": "health"}, {"name": "code"}, {"name": "code (legacy)"}, {"name": "users"},
			{"name": "operations"}, {"name": "observability"}, {"name": "realtime"}, {"name": "db-module"}, {"name": "history"}, {"name": "openai"}},
	}
}

// operation is the OpenAPI Operation object of op.
func (op apiOp) operation() map[string]any {
	o := map[string]any{"summary": op.summary, "tags": []string{op.tag},
		"operationId": strings.ToLower(op.method) + strings.NewReplacer("/", "_", "{", "", "}", "", "-", "_", ".", "_").Replace(op.path)}
	var params []map[string]any
	for _, seg := range strings.Split(op.path, "/") {
		if strings.HasPrefix(seg, "{") {
			params = append(params, map[string]any{"name": strings.Trim(seg, "{}"), "in": "path", "required": true, "schema": map[string]any{"type": "string"}})
		}
	}
	for _, q := range op.query {
		params = append(params, map[string]any{"name": q, "in": "query", "required": false, "schema": map[string]any{"type": "string"}})
	}
	if params != nil {
		o["parameters"] = params
	}
	if op.body != "" {
		o["requestBody"] = map[string]any{"required": true, "content": map[string]any{"application/json": map[string]any{
			"schema": map[string]any{"$ref": "#/components/schemas/" + op.body}}}}
	}
	ok := map[string]any{"description": "Success", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"type": "object"}}}}
	if op.sse {
		ok = map[string]any{"description": "Server-sent events: one data: <json> line per event",
			"content": map[string]any{"text/event-stream": map[string]any{"schema": map[string]any{"type": "string"}}}}
	}
	errResp := map[string]any{"description": "Error", "content": map[string]any{"application/json": map[string]any{"schema": map[string]any{"$ref": "#/components/schemas/Error"}}}}
	resp := map[string]any{"200": ok, "default": errResp}
	if op.path == "/api/v1/realtime" {
		resp = map[string]any{"101": map[string]any{"description": "Switching protocols (WebSocket hapa.v1)"}, "default": errResp}
	}
	switch op.auth {
	case "key", "admin", "user":
		o["security"] = []map[string]any{{"ApiKey": []string{}}, {"Bearer": []string{}}}
		resp["401"] = errResp
	}
	if op.auth == "admin" {
		o["description"] = "Requires the admin scope."
		resp["403"] = errResp
	}
	if op.group != "" {
		o["x-rate-limit-group"] = op.group
		resp["429"] = errResp
	}
	o["responses"] = resp
	return o
}

// handleOpenAPI serves GET /openapi.json.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-cache")
	writeJSON(w, http.StatusOK, s.openAPIDocument())
}
