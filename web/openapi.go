package web

import (
	"encoding/json"
	"net/http"
	"sync"
	"time"

	"github.com/hapa-project/hapa/auth"
	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// apiOp documents one operation. The OpenAPI document (openapi_gen.go) is generated
// from apiOps: the Go types a handler decodes and encodes become its schemas, the
// examples are values of those types, and the error responses follow the route's
// family. Adding a route means adding one entry here; TestOpenAPIMatchesRoutes lists
// what is missing and TestOpenAPIExamplesValidate checks every example.
type apiOp struct {
	method, path, tag, summary, description string
	id                                      string // operationId when the path-derived one is not wanted

	auth   authKind
	scope  string    // the scope the route requires, if any
	family errFamily // which error body the route answers
	group  string    // rate-limit group, "" none
	errs   []int     // error statuses besides those implied by body, auth and group

	query        []queryParam
	pathDoc      string // description of the path parameter
	pathEx       any
	req, reqEx   any // request body type (a zero value) and example
	optionalBody bool
	resp, respEx any    // JSON success body type and example
	event        any    // SSE: the type of one event's JSON (text/event-stream)
	streamEx     string // SSE example
	raw, rawEx   string // non-JSON success content type and example
	status       int    // success status when not 200
	okDoc        string // success description
}

// authKind is who may call a route.
type authKind int

const (
	public      authKind = iota
	anyKey               // API key (X-API-Key or Bearer) or JWT
	openAIKey            // the /v1 routes: Bearer API key (or X-API-Key); JWTs work too
	jwtOnly              // an access token (logout)
	optionalKey          // a credential, or none where the route allows it (self-signup)
)

// errFamily is the error body a route answers (docs/api.md, "Errors").
type errFamily int

const (
	hapaErrors   errFamily = iota // errorBody
	sseErrors                     // errorBody with type, content, is_complete
	openAIErrors                  // openAIErrorEnvelope
	noErrors
)

type queryParam struct {
	name, doc, schema string
	example           any
}

// requestRequired names the required fields of each request schema: request types
// use pointers to tell absent from zero, so reflection cannot see which are required.
func requestRequired() map[string][]string {
	return map[string][]string{
		"CodeGenerationRequest": {"prompt"},
		"CompletionRequest":     {"prefix"},
		"LegacyRequest":         {"user_question"},
		"CacheClearRequest":     {"cache_type"},
		"RefreshRequest":        {"refresh_token"},
		"NewEntryRequest":       {"session_id", "content"},
		"ChatRequestBody":       {"messages"},
		"ChatMessageBody":       {"role", "content"},
		"CompletionRequestBody": {"prompt"},
		"OptionIDsRequest":      {"option_ids"},
	}
}

func apiTags() [][2]string {
	return [][2]string{
		{"health", "Liveness, readiness and service information (no credential)."},
		{"code", "Code generation and completion for the VS Code extension (docs/compatibility.md)."},
		{"code (legacy)", "The landing page's and the seed README's generation routes."},
		{"users", "Log-in, onboarding profile, settings and API keys of a user."},
		{"db-module", "The DB-module routes the extension calls directly (log-in, settings)."},
		{"history", "Conversation history of a user (scope history)."},
		{"operations", "Error dashboard, incidents, performance, cache and configuration (scope admin)."},
		{"openai", "OpenAI-compatible API: chat completions, completions, models. Errors use OpenAI's envelope."},
		{"realtime", "The editor WebSocket, subprotocol hapa.v1 (docs/protocol.md)."},
		{"observability", "Prometheus metrics and this API's own description."},
	}
}

const openAPIDescription = `HAPA: a gateway for AI coding assistants in front of vLLM.

**Credentials.** ` + "`X-API-Key: hapa_…`" + ` or ` + "`Authorization: Bearer <API key or JWT>`" + `; a route's security lists what it accepts, ` + "`security: []`" + ` marks a public one.

**Errors.** /api/v1, the DB-module and history routes answer one JSON body (detail, message, error_message, error_code, status, timestamp, path, request_id, incident_id for 5xx, recovery_hint); the SSE routes add type, content and is_complete. The /v1 routes answer OpenAI's envelope {"error":{message,type,param,code}} with hapa_code. Messages follow Accept-Language (en, ko; default en).

**Rate limits.** Rate-limited routes send X-RateLimit-Limit, X-RateLimit-Remaining and X-RateLimit-Reset; 429 adds Retry-After. x-rate-limit-group names the route's group.

Human-readable reference: docs/api.md. WebSocket protocol: docs/protocol.md.`

// apiOps lists every operation of routes.go.
func apiOps() []apiOp {
	t := true
	str := func(s string) *string { return &s }
	num := func(n float64) *float64 { return &n }
	integer := func(n int) *int { return &n }
	now := "2026-12-01T19:08:41Z"
	usage := tokenUsage{PromptTokens: 126, CompletionTokens: 60, TotalTokens: 186}
	genReq := codeGenerationRequest{Prompt: str("reverse a string"), ModelType: "code_generation", MaxTokens: integer(60), Temperature: num(0.3)}
	profile := realtime.Profile{PythonSkillLevel: "intermediate", CodeOutputStructure: "standard", ExplanationStyle: "standard",
		ProjectContext: "web_development", ErrorHandlingPreference: "basic", PreferredLanguageFeatures: []string{"type_hints"}}
	replica := ReplicaStatus{URL: "simulator", Healthy: true, Circuit: "closed", Requests: 42}
	session := store.HistorySession{SessionID: "sess_5f1c2a", UserID: 7, SessionTitle: "Sorting helpers", Status: "active",
		PrimaryLanguage: "python", Tags: store.JSONStrings{"sorting"}, TotalEntries: 2, QuestionCount: 1, AnswerCount: 1}
	entry := store.HistoryEntry{EntryID: "entry_9ab3", SessionID: "sess_5f1c2a", UserID: 7, ConversationType: "question",
		Content: "How do I sort a list of tuples by the second item?", Language: "python"}
	chatMsg := chatMessageOut{Role: "assistant", Content: "def reverse(s):\n    return s[::-1]"}
	accept := func(group string) store.Acceptance {
		return store.Acceptance{Group: group, Shown: 40, Accepted: 13, Dismissed: 22, Rate: 0.325, AcceptedChars: 610, AcceptMs: 850}
	}
	usageFig := usageFigures{Requests: 120, Errors: 3, ClientErrors: 2, ServerErrors: 1, Cancelled: 4, CacheHits: 30, TokensIn: 9000, TokensOut: 4200,
		UpstreamTokensIn: 7000, UpstreamTokensOut: 3300, CacheTokensIn: 2000, CacheTokensOut: 900, Served: 116,
		LatencyMs: &usageTiming{P50: 180, P99: 920, Avg: 240}, TTFTMs: &usageTiming{P50: 45, P99: 210, Avg: 60}}
	usageEx := usageResponse{Period: "7d", Step: "day", Since: "2026-11-30T00:00:00Z", Until: "2026-12-07T00:00:00Z", Filter: usageFilter{KeyID: 12},
		Totals: usageFig, Series: []usageBucket{{Start: "2026-12-06T00:00:00Z", usageFigures: usageFig}},
		Completions: usageCompletions{Acceptance: accept("all"),
			Series:     []store.AcceptancePoint{{Start: time.Date(2026, 12, 6, 0, 0, 0, 0, time.UTC), Shown: 40, Accepted: 13, Rate: 0.325}},
			ByLanguage: []store.Acceptance{accept("python")}, ByAdapter: []store.Acceptance{accept("autocomplete")},
			ByModelFamily: []store.Acceptance{accept("deepseek-coder")}}}
	cmplID := "cmpl-AQGa6Hq1ngcCBnB5dGhvbgxhdXRvY29tcGxldGWHVj8dGnl4pdW8tU4JnKU"
	chatOut := openAIObject{ID: "chatcmpl-5d1f0b2c", Object: "chat.completion", Created: 1764616121, Model: "hapa-generate",
		Choices: []openAIChoice{{Message: &chatMsg, FinishReason: str("stop")}},
		Usage:   &openAIUsage{PromptTokens: 24, CompletionTokens: 12, TotalTokens: 36}}
	cmplOut := openAIObject{ID: cmplID, Object: "text_completion", Created: 1764616121, Model: "hapa-completion",
		Choices: []openAIChoice{{Text: str("return a + b"), FinishReason: str("stop")}},
		Usage:   &openAIUsage{PromptTokens: 18, CompletionTokens: 5, TotalTokens: 23}}
	model := modelObject{ID: "hapa-completion", Object: "model", Created: 1764616121, OwnedBy: "hapa", Root: "autocomplete"}
	period := queryParam{"period", "1h, 24h (default), 7d or 30d", `{"type":"string","enum":["1h","24h","7d","30d"],"default":"24h"}`, "24h"}
	gen, cmp := ScopeCodeGeneration, ScopeCodeCompletion
	engine := []int{422, 502, 503, 504}

	return []apiOp{
		{method: "GET", path: "/", tag: "health", summary: "Service information", family: noErrors,
			resp: infoBody{}, respEx: infoBody{Service: "HAPA (Hancom AI Python Assistant)", Version: "1.0.0", Status: "running", Timestamp: now,
				Environment: "development", Features: []string{"code_generation", "code_completion"}, Endpoints: map[string]string{"docs": "/docs"}}},
		{method: "GET", path: "/health", tag: "health", summary: "Health: status, version, uptime, services", family: noErrors,
			description: "Always 200; status is healthy, degraded or unhealthy. /readyz is the probe for load balancers.",
			resp:        healthBody{}, respEx: healthBody{Status: "healthy", Version: "1.0.0", Uptime: 3600, Timestamp: now, Service: "HAPA Backend API",
				Services: healthServices{Database: StateConnected, Redis: "not_configured", AIModel: StateSimulator}, LastCleanup: str(now)}},
		{method: "GET", path: "/api/v1/health", tag: "health", summary: "Health (same as /health)", id: "get_api_v1_health", family: noErrors,
			resp: healthBody{}, respEx: healthBody{Status: "healthy", Version: "1.0.0", Timestamp: now, Service: "HAPA Backend API",
				Services: healthServices{Database: StateConnected, Redis: StateConnected, AIModel: StateAvailable}}},
		{method: "GET", path: "/readyz", tag: "health", summary: "Readiness: 200 while serving, 503 while draining", family: noErrors,
			resp: readyBody{}, respEx: readyBody{Status: "ready", Database: StateConnected}},
		{method: "GET", path: "/livez", tag: "health", summary: "Liveness: 200 while the process answers", family: noErrors,
			resp: liveBody{}, respEx: liveBody{Status: "alive"}},

		{method: "POST", path: "/api/v1/code/generate/stream", tag: "code", summary: "Stream a code generation (SSE)",
			description: "One data: line per event: start, token…, done (with metadata) or error, then data: [DONE]. Errors before the first event are JSON with the real status.",
			auth:        anyKey, scope: gen, family: sseErrors, group: "stream", errs: engine,
			query: []queryParam{{"enhanced", "only sets X-Enhanced-Mode", `{"type":"boolean","default":false}`, true}},
			req:   codeGenerationRequest{}, reqEx: genReq,
			event:    sseEvent{},
			streamEx: "data: {\"type\":\"start\",\"content\":\"\",\"sequence\":0,\"timestamp\":\"2026-12-01T19:08:41.061Z\"}\n\ndata: {\"type\":\"token\",\"content\":\"def reverse(s):\",\"text\":\"def reverse(s):\",\"sequence\":1,\"timestamp\":\"2026-12-01T19:08:41.061Z\",\"is_complete\":false}\n\ndata: {\"type\":\"done\",\"content\":\"\",\"sequence\":2,\"timestamp\":\"2026-12-01T19:08:41.062Z\",\"is_complete\":true,\"metadata\":{\"finish_reason\":\"stop\",\"usage\":{\"prompt_tokens\":126,\"completion_tokens\":6,\"total_tokens\":132},\"ttft_ms\":1,\"latency_ms\":1,\"cached\":false,\"coalesced\":false,\"model\":\"prompt\"}}\n\ndata: [DONE]\n\n"},
		{method: "POST", path: "/api/v1/code/generate", tag: "code", summary: "Generate code (one response)",
			auth: anyKey, scope: gen, group: "generation", errs: engine, req: codeGenerationRequest{}, reqEx: genReq,
			resp: codeGenerationResponse{}, respEx: codeGenerationResponse{Success: true, GeneratedCode: "def reverse(s):\n    return s[::-1]",
				Explanation: "Slicing with a step of -1 reverses a string.", ModelUsed: "prompt", ProcessingTime: 0.0011, TokenUsage: usage,
				Timestamp: now, RequestID: "req_868640cbb07f48b6", FinishReason: "stop"}},
		{method: "POST", path: "/api/v1/code/complete", tag: "code", summary: "Inline completion (completions and suggestions)",
			auth: anyKey, scope: cmp, group: "completion", errs: engine,
			req: completionRequest{}, reqEx: completionRequest{Prefix: str("def add(a, b):\n    "), Suffix: str("\n"), Language: "python", MaxTokens: integer(32)},
			resp: completionResponse{}, respEx: completionResponse{Success: true, Status: "success", ModelUsed: "autocomplete", Timestamp: now,
				Completions:     []completionItem{{Code: "return a + b", Label: "return a + b", Description: "AI completion", Confidence: 0.9}},
				Suggestions:     []suggestionItem{{Text: "return a + b", Confidence: 0.9, CompletionType: "code"}},
				ContextAnalysis: contextAnalysis{ContextType: "function", InFunction: true, IndentationLevel: 4, ExpectedCompletion: "statement"},
				TokenUsage:      tokenUsage{PromptTokens: 18, CompletionTokens: 5, TotalTokens: 23}, CompletionLength: 12, RequestID: "req_1f2e3d4c5b6a7980",
				CompletionID: cmplID}},
		{method: "POST", path: "/api/v1/completions/events", tag: "code", summary: "Completion feedback: shown, accepted, dismissed (batch)",
			description: "Each event names a completion_id the caller received (from /api/v1/code/complete, /v1/completions with a suffix, or the socket's completion streams), within 24 hours. A repeated (completion_id, event) is taken once. Events not taken are listed by index with their code; the others are recorded.",
			auth:        anyKey, errs: []int{413},
			req: completionEventsRequest{}, reqEx: completionEventsRequest{Events: []completionEvent{
				{CompletionID: cmplID, Event: "shown"}, {CompletionID: cmplID, Event: "accepted", AcceptedChars: integer(12), AcceptedLines: integer(1)}}},
			resp: completionEventsResponse{}, respEx: completionEventsResponse{Received: 2, Accepted: 2, Errors: []completionEventError{}}},
		{method: "GET", path: "/api/v1/code/models", tag: "code", summary: "Model types and their adapters", auth: anyKey, group: "default",
			resp: modelsResponse{}, respEx: modelsResponse{VLLMServerStatus: "healthy", AvailableModels: []string{"autocomplete", "prompt", "comment", "error_fix"},
				ModelMapping:        map[string]modelMappingEntry{"autocomplete": {HAPATypes: []string{"code_completion"}, Description: "inline completion"}},
				ServerInfo:          serverInfo{BaseModel: "deepseek-ai/deepseek-coder-6.7b-instruct", Simulator: true, Replicas: []ReplicaStatus{replica}},
				CompletionLanguages: []string{"python", "javascript", "typescript", "go", "rust"}, Timestamp: now}},
		{method: "GET", path: "/api/v1/code/health", tag: "code", summary: "Code service health", auth: anyKey, group: "default",
			resp: codeHealthResponse{}, respEx: codeHealthResponse{VLLMServer: vllmServerHealth{Status: "healthy", Timestamp: now,
				Details: healthDetails{Connected: true, BaseURL: "simulator", TotalRequests: 42, SuccessfulRequests: 42, Replicas: []ReplicaStatus{replica}, Simulator: true}},
				AvailableModels: []string{"autocomplete", "prompt"}, Timestamp: now, IntegrationStatus: "active"}},
		{method: "POST", path: "/api/v1/code/test", tag: "code", summary: "Smoke-test the model with a fixed prompt", auth: anyKey, scope: gen, group: "generation",
			query: []queryParam{{"model_type", "the task to test (default code_generation)", `{"type":"string"}`, "code_generation"}},
			resp:  codeTestResponse{}, respEx: codeTestResponse{TestStatus: "success", ResponseTimeSeconds: 0.002, ModelUsed: "prompt", OutputLength: 120, TokenUsage: usage, Timestamp: now}},
		{method: "GET", path: "/api/v1/code/backend/status", tag: "code", summary: "Upstream backend status", auth: anyKey, group: "default",
			resp: backendStatusBody{}, respEx: backendStatusBody{BackendType: "vllm", AvailableBackends: []string{"vllm"}, Status: "healthy", Timestamp: now}},
		{method: "POST", path: "/api/v1/code/backend/switch", tag: "code", summary: "Switch the backend (compatibility: there is only vllm)", auth: anyKey, group: "default",
			resp: backendSwitchBody{}, respEx: backendSwitchBody{BackendType: "vllm", Message: "only vllm", Timestamp: now}},

		{method: "POST", path: "/api/v1/code/enhanced-stream-generate", tag: "code (legacy)", summary: "Legacy streaming generation (landing page)",
			auth: anyKey, scope: gen, family: sseErrors, group: "stream", errs: engine,
			req: legacyRequest{}, reqEx: legacyRequest{UserQuestion: str("reverse a string"), Language: "python"},
			event: sseEvent{}, streamEx: "data: {\"type\":\"metadata\",\"content\":\"{}\",\"sequence\":0,\"timestamp\":\"2026-12-01T19:08:41.061Z\"}\n\ndata: {\"type\":\"code\",\"content\":\"def reverse(s):\",\"text\":\"def reverse(s):\",\"sequence\":1,\"timestamp\":\"2026-12-01T19:08:41.061Z\"}\n\ndata: {\"type\":\"stream_end\",\"content\":\"\",\"sequence\":3,\"timestamp\":\"2026-12-01T19:08:41.062Z\"}\n\ndata: [DONE]\n\n"},
		{method: "POST", path: "/api/v1/enhanced-stream-generate", tag: "code (legacy)", summary: "Legacy streaming generation without /code",
			auth: anyKey, scope: gen, family: sseErrors, group: "stream", errs: engine,
			req: legacyRequest{}, reqEx: legacyRequest{UserQuestion: str("reverse a string")},
			event: sseEvent{}, streamEx: "data: {\"type\":\"code\",\"content\":\"def reverse(s):\",\"text\":\"def reverse(s):\",\"sequence\":1,\"timestamp\":\"2026-12-01T19:08:41.061Z\"}\n\ndata: [DONE]\n\n"},
		{method: "POST", path: "/api/v1/generate-code", tag: "code (legacy)", summary: "Seed README generation",
			auth: anyKey, scope: gen, group: "generation", errs: engine,
			req: legacyRequest{}, reqEx: legacyRequest{UserQuestion: str("reverse a string"), CodeContext: "# utils.py"},
			resp: generateCodeResponse{}, respEx: generateCodeResponse{GeneratedCode: "def reverse(s):\n    return s[::-1]", Explanation: "Slicing reverses.",
				Status: "success", ResponseTimeMs: 2, ModelUsed: "prompt", TokenUsage: usage, RequestID: "req_868640cbb07f48b6"}},

		{method: "POST", path: "/api/v1/users/login", tag: "users", summary: "Log in with e-mail (and password); returns tokens", group: "auth",
			req: loginRequest{}, reqEx: loginRequest{Email: "dev@example.com", Password: "correct horse battery"},
			resp: auth.TokenPair{}, respEx: auth.TokenPair{AccessToken: "eyJhbGciOiJIUzI1NiJ9.e30.sig", RefreshToken: "eyJhbGciOiJIUzI1NiJ9.e30.ref", TokenType: "bearer", ExpiresIn: 1800}},
		{method: "POST", path: "/api/v1/users/profile", tag: "users", summary: "Save the onboarding profile", auth: anyKey, errs: []int{422},
			req: profileRequest{}, reqEx: profileRequest{ProfileData: &profileData{PythonSkillLevel: "intermediate", CodeOutputStructure: "standard"}, SettingsMapping: []int{}},
			resp: profileResponse{}, respEx: profileResponse{Message: "프로필이 성공적으로 저장되었습니다.", Profile: savedProfile{Profile: profile}}},
		{method: "GET", path: "/api/v1/users/me", tag: "users", summary: "The signed-in user", auth: anyKey,
			resp: userBody{}, respEx: userBody{ID: 7, Email: "dev@example.com", Username: str("dev")}},
		{method: "GET", path: "/api/v1/users/settings", tag: "users", summary: "The user's selected setting options", auth: anyKey,
			resp: []settingOption{}, respEx: []settingOption{{ID: 4, SettingType: "python_skill_level", OptionValue: "intermediate"}}},
		{method: "POST", path: "/api/v1/users/settings", tag: "users", summary: "Select setting options by id", auth: anyKey, errs: []int{422},
			req: optionIDsRequest{}, reqEx: optionIDsRequest{OptionIDs: &[]int{4, 9}},
			resp: messageBody{}, respEx: messageBody{Message: "설정이 성공적으로 업데이트되었습니다."}},
		{method: "POST", path: "/api/v1/users/generate-api-key", tag: "users", summary: "Issue an API key (shown once)", group: "auth",
			description: "With a JWT or API key of a user account; with self-signup also by e-mail alone (the original extension's flow).",
			auth:        optionalKey, optionalBody: true, req: generateKeyRequest{}, reqEx: generateKeyRequest{Email: "dev@example.com"},
			resp: generateKeyResponse{}, respEx: generateKeyResponse{APIKey: "hapa_3f9c0d6e5b4a39281706f5e4d3c2b1a0", UserID: "dev@example.com",
				Permissions: []string{"code_generation", "code_completion"}, ExpiresInDays: 90, Message: "API key issued"}},

		{method: "GET", path: "/api/v1/usage", tag: "usage", summary: "The caller's own usage: totals and series over 24h, 7d or 30d",
			description: "The API key's usage, or for an access token its user's, from the hourly rollups: requests, tokens (charged upstream and served from the cache), failures, cancels, latency and TTFT percentiles, per hour or day; and the acceptance of its inline completions (shown, accepted, dismissed, acceptance rate, shown-to-accepted time) in total, over time and per language, adapter and model family.",
			auth:        anyKey, group: "default", errs: []int{403, 422},
			query: []queryParam{{"period", "24h, 7d (default) or 30d", `{"type":"string","enum":["24h","7d","30d"],"default":"7d"}`, "7d"},
				{"step", "hour or day (default: hour for 24h, else day)", `{"type":"string","enum":["hour","day"]}`, "day"}},
			resp: usageResponse{}, respEx: usageEx},
		{method: "GET", path: "/api/v1/admin/usage", tag: "operations", summary: "Anyone's usage: filters, breakdowns by adapter and route, top keys and users",
			auth: anyKey, scope: ScopeAdmin, group: "ops", errs: []int{422},
			query: []queryParam{{"period", "24h, 7d (default) or 30d", `{"type":"string","enum":["24h","7d","30d"],"default":"7d"}`, "30d"},
				{"step", "hour or day", `{"type":"string","enum":["hour","day"]}`, "day"},
				{"key_id", "only this API key", `{"type":"integer","minimum":1}`, 12},
				{"user_id", "only this user", `{"type":"integer","minimum":1}`, 7},
				{"adapter", "only this adapter", `{"type":"string"}`, "autocomplete"},
				{"route", "only this route pattern", `{"type":"string"}`, "POST /api/v1/code/complete"}},
			resp: usageResponse{}, respEx: usageEx},
		{method: "GET", path: "/api/v1/errors/dashboard", tag: "operations", summary: "Error dashboard: totals, 24h rates, top codes, recent incidents",
			auth: anyKey, scope: ScopeAdmin, group: "ops", errs: []int{422, 503},
			query: []queryParam{{"class", "4xx, 5xx or all (default)", `{"type":"string","enum":["4xx","5xx","all"],"default":"all"}`, "5xx"}},
			resp:  errorsDashboard{}, respEx: errorsDashboard{TotalErrors: 3, ErrorsLast24h: 2, RequestsLast24h: 140, ErrorRate: 0.014, GeneratedAt: now, Class: store.ClassAll,
				TopErrorCodes:   []codeCount{{Code: "E5006", Count: 2, Description: "AI model error"}},
				RecentIncidents: []incidentSummary{{IncidentID: "INC-20261201-9F56B3FE", ErrorCode: "E5006", Timestamp: now, Status: "open", Path: "/api/v1/code/generate"}}}},
		{method: "GET", path: "/api/v1/errors/patterns", tag: "operations", summary: "Incidents per code and time bucket",
			auth: anyKey, scope: ScopeAdmin, group: "ops", errs: []int{422, 503}, query: []queryParam{period},
			resp: errorPatterns{}, respEx: errorPatterns{Period: "1h", Since: now, Until: now, BucketSeconds: 300, TotalErrors: 1,
				Patterns: []errorPattern{{Code: "E5006", Description: "AI model error", Count: 1, FirstSeen: now, LastSeen: now, Buckets: []int{1}}},
				Buckets:  []errorBucket{{Start: now, Total: 1, Counts: map[string]int{"E5006": 1}}}}},
		{method: "GET", path: "/api/v1/errors/incidents/{id}", tag: "operations", summary: "One incident by id",
			auth: anyKey, scope: ScopeAdmin, group: "ops", errs: []int{404, 503}, pathDoc: "incident id, INC-YYYYMMDD-XXXXXXXX", pathEx: "INC-20261201-9F56B3FE",
			resp: incidentDetail{}, respEx: incidentDetail{Incident: store.Incident{ID: "INC-20261201-9F56B3FE", Code: "E5006", Path: "/api/v1/code/generate",
				RequestID: "req_868640cbb07f48b6", Message: "AI model returned an error", Detail: "upstream 500", Status: "open", HTTPStatus: 502},
				Timestamp: now, Description: "AI model error", Hint: "Retry, or change the request"}},
		{method: "GET", path: "/api/v1/analytics/performance", tag: "operations", summary: "Latency, TTFT, throughput, cache hits, errors and tokens",
			auth: anyKey, scope: ScopeAdmin, group: "ops", errs: []int{422, 503}, query: []queryParam{period},
			resp: performanceReport{}, respEx: performanceReport{Period: "24h", Since: now, Until: now, Requests: 140, AvgResponseTime: 182.5, RequestsPerMinute: 0.1,
				CacheHitRate: 0.2, AIModelUsage: modelUsage{TotalTokens: 9000, PromptTokens: 6000, CompletionTokens: 3000, AvgTokensPerRequest: 64.29, ServedTokens: 9500},
				LatencyMs: percentiles{120, 900}, TTFTMs: percentiles{40, 200}, PerAdapter: map[string]adapterPerf{"prompt": {Requests: 100, P50: 150, P99: 900, Tokens: 8000}}}},
		{method: "DELETE", path: "/api/v1/cache/clear", tag: "operations", summary: "Clear a cache (confirm required)",
			auth: anyKey, scope: ScopeAdmin, group: "ops", errs: []int{422, 503}, optionalBody: true,
			query: []queryParam{{"confirm", "true confirms like the body's confirm", `{"type":"boolean"}`, true}},
			req:   cacheClearRequest{}, reqEx: cacheClearRequest{CacheType: str("code_generation"), Confirm: &t},
			resp: cacheClearBody{}, respEx: cacheClearBody{Status: "success", Cleared: 12, CacheType: "code_generation", Broadcast: true, Message: "Cleared 12 entries of code_generation", ResponseTimeMs: 0.8}},
		{method: "GET", path: "/api/v1/config/status", tag: "operations", summary: "Effective configuration (secrets redacted) and rate-limit rules",
			auth: anyKey, scope: ScopeAdmin, group: "ops",
			resp: configStatusBody{}, respEx: configStatusBody{Status: "success", Version: "1.0.0", Environment: "production",
				Config: map[string]any{"PORT": map[string]any{"value": "8000", "source": "default"}}, RateLimits: map[string]string{"generation": "50/m"}, LastCleanup: str(now)}},

		{method: "GET", path: "/metrics", tag: "observability", summary: "Prometheus metrics (text exposition format)", family: noErrors,
			raw: "text/plain", rawEx: "# TYPE hapa_requests_total counter\nhapa_requests_total{method=\"GET\",route=\"GET /health\",status=\"200\"} 1\n"},
		{method: "GET", path: "/openapi.json", tag: "observability", summary: "This OpenAPI 3.1 document", family: noErrors,
			resp: map[string]any{}, respEx: map[string]any{"openapi": "3.1.0"}},
		{method: "GET", path: "/docs", tag: "observability", summary: "Interactive API reference (Swagger UI)", family: noErrors,
			raw: "text/html", rawEx: "<!doctype html>…"},
		{method: "GET", path: "/api/v1/realtime", tag: "realtime", summary: "WebSocket upgrade, subprotocol hapa.v1",
			description: "Browsers authenticate with the subprotocol hapa.auth.<key> next to hapa.v1. Frames and errors: docs/protocol.md.",
			auth:        anyKey, status: http.StatusSwitchingProtocols, okDoc: "Switching protocols to the hapa.v1 WebSocket"},

		{method: "POST", path: "/v1/chat/completions", tag: "openai", summary: "OpenAI chat completions (stream: SSE chunks, then [DONE])",
			description: "model picks the task: hapa-generate, hapa-completion, hapa-explain… (GET /v1/models). With stream:true the answer is text/event-stream.",
			auth:        openAIKey, family: openAIErrors, errs: []int{404, 502, 503, 504}, group: "generation",
			req: chatRequestBody{}, reqEx: chatRequestBody{openAISampling: openAISampling{Model: "hapa-generate", MaxTokens: integer(64)},
				Messages: []chatMessageBody{{Role: "user", Content: json.RawMessage(`"reverse a string in Python"`)}}},
			resp: openAIObject{}, respEx: chatOut, event: openAIObject{},
			streamEx: "data: {\"id\":\"chatcmpl-5d1f0b2c\",\"object\":\"chat.completion.chunk\",\"created\":1764616121,\"model\":\"hapa-generate\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"def reverse(s):\"},\"logprobs\":null,\"finish_reason\":null}]}\n\ndata: [DONE]\n\n"},
		{method: "POST", path: "/v1/completions", tag: "openai", summary: "OpenAI completions; suffix renders the FIM template",
			auth: openAIKey, family: openAIErrors, errs: []int{404, 502, 503, 504}, group: "completion",
			req: completionRequestBody{}, reqEx: completionRequestBody{openAISampling: openAISampling{Model: "hapa-completion", MaxTokens: integer(32)},
				Prompt: json.RawMessage(`"def add(a, b):\n    "`), Suffix: str("\n")},
			resp: openAIObject{}, respEx: cmplOut, event: openAIObject{},
			streamEx: "data: {\"id\":\"" + cmplID + "\",\"object\":\"text_completion\",\"created\":1764616121,\"model\":\"hapa-completion\",\"choices\":[{\"index\":0,\"text\":\"return a + b\",\"logprobs\":null,\"finish_reason\":null}]}\n\ndata: [DONE]\n\n"},
		{method: "GET", path: "/v1/models", tag: "openai", summary: "Models: base model, adapters, hapa-* aliases", auth: openAIKey, family: openAIErrors, group: "default",
			resp: modelList{}, respEx: modelList{Object: "list", Data: []modelObject{model}}},
		{method: "GET", path: "/v1/models/{id}", tag: "openai", summary: "One model by id", auth: openAIKey, family: openAIErrors, group: "default", errs: []int{404},
			pathDoc: "model id (may contain /)", pathEx: "hapa-completion", resp: modelObject{}, respEx: model},

		{method: "POST", path: "/auth/login", tag: "db-module", summary: "Log in (DB-module contract)", group: "auth",
			req: loginRequest{}, reqEx: loginRequest{Email: "dev@example.com", Password: "correct horse battery"},
			resp: auth.TokenPair{}, respEx: auth.TokenPair{AccessToken: "eyJhbGciOiJIUzI1NiJ9.e30.sig", RefreshToken: "eyJhbGciOiJIUzI1NiJ9.e30.ref", TokenType: "bearer", ExpiresIn: 1800}},
		{method: "POST", path: "/auth/refresh", tag: "db-module", summary: "A new access token for a refresh token", group: "auth",
			req: refreshRequest{}, reqEx: refreshRequest{RefreshToken: "eyJhbGciOiJIUzI1NiJ9.e30.ref"},
			resp: auth.TokenPair{}, respEx: auth.TokenPair{AccessToken: "eyJhbGciOiJIUzI1NiJ9.e30.sig", TokenType: "bearer", ExpiresIn: 1800}},
		{method: "POST", path: "/auth/logout", tag: "db-module", summary: "Log out: the session's tokens stop working on every replica", auth: jwtOnly,
			status: http.StatusNoContent, okDoc: "Logged out"},
		{method: "GET", path: "/users/me", tag: "db-module", summary: "The signed-in user", auth: anyKey,
			resp: userBody{}, respEx: userBody{ID: 7, Email: "dev@example.com"}},
		{method: "GET", path: "/settings/options", tag: "db-module", summary: "Settings option catalogue", auth: anyKey,
			resp: []settingOption{}, respEx: []settingOption{{ID: 1, SettingType: "python_skill_level", OptionValue: "beginner"}}},
		{method: "GET", path: "/settings/me", tag: "db-module", summary: "The user's selected options", auth: anyKey,
			resp: []settingOption{}, respEx: []settingOption{{ID: 4, SettingType: "python_skill_level", OptionValue: "intermediate"}}},
		{method: "POST", path: "/settings/me", tag: "db-module", summary: "Select options", auth: anyKey, errs: []int{422},
			req: optionIDsRequest{}, reqEx: optionIDsRequest{OptionIDs: &[]int{4}}, status: http.StatusNoContent, okDoc: "Saved"},

		{method: "POST", path: "/history/sessions", tag: "history", summary: "Create a history session", auth: anyKey, scope: ScopeHistory,
			req: newSessionRequest{}, reqEx: newSessionRequest{SessionTitle: "Sorting helpers", PrimaryLanguage: "python", Tags: []string{"sorting"}},
			resp: sessionItem{}, respEx: sessionItem{HistorySession: session, Timestamp: now}},
		{method: "GET", path: "/history/sessions", tag: "history", summary: "List history sessions", auth: anyKey, scope: ScopeHistory, errs: []int{400},
			query: []queryParam{{"limit", "at most this many (default 20, most recent first)", `{"type":"integer","minimum":1}`, 20}},
			resp:  []sessionItem{}, respEx: []sessionItem{{HistorySession: session, Timestamp: now}}},
		{method: "GET", path: "/history/sessions/{session_id}", tag: "history", summary: "Entries of one session", auth: anyKey, scope: ScopeHistory, errs: []int{400, 404},
			pathDoc: "session id", pathEx: "sess_5f1c2a",
			query: []queryParam{{"limit", "at most this many entries", `{"type":"integer","minimum":1}`, 50}},
			resp:  []entryItem{}, respEx: []entryItem{{HistoryEntry: entry, Timestamp: now}}},
		{method: "DELETE", path: "/history/sessions/{session_id}", tag: "history", summary: "Delete a session and its entries", auth: anyKey, scope: ScopeHistory, errs: []int{404},
			pathDoc: "session id", pathEx: "sess_5f1c2a",
			resp: deleteSessionResponse{}, respEx: deleteSessionResponse{Success: true, Message: "Session deleted", SessionID: "sess_5f1c2a", DeletedEntries: 2, DeletedSessions: 1}},
		{method: "POST", path: "/history/entries", tag: "history", summary: "Add a history entry", auth: anyKey, scope: ScopeHistory, errs: []int{404, 422},
			req: newEntryRequest{}, reqEx: newEntryRequest{SessionID: "sess_5f1c2a", ConversationType: "question", Content: str("How do I sort tuples?"), Language: "python"},
			resp: newEntryResponse{}, respEx: newEntryResponse{Success: true, EntryID: "entry_9ab3", SessionID: "sess_5f1c2a", Message: "Entry added", Timestamp: now}},
		{method: "POST", path: "/history/search", tag: "history", summary: "Search history", auth: anyKey, scope: ScopeHistory, errs: []int{422},
			req: searchRequest{}, reqEx: searchRequest{Query: "sort", Language: "python", Limit: integer(20)},
			resp: []entryItem{}, respEx: []entryItem{{HistoryEntry: entry, Timestamp: now}}},
		{method: "GET", path: "/history/stats", tag: "history", summary: "History statistics", auth: anyKey, scope: ScopeHistory,
			resp: statsResponse{}, respEx: statsResponse{HistoryStats: store.HistoryStats{TotalSessions: 3, ActiveSessions: 2, TotalEntries: 10,
				TotalQuestions: 5, TotalAnswers: 5, LanguageDistribution: map[string]int{"python": 3}}, SessionsToday: 1, SessionsThisWeek: 3, AverageSessionLength: 3.3}},
		{method: "GET", path: "/history/health", tag: "history", summary: "History service health (503 when the database is down)", family: noErrors,
			resp: historyHealthBody{}, respEx: historyHealthBody{Status: "healthy", Service: "history", Version: "1.0.0", Database: StateConnected, Timestamp: now}},
	}
}

// sseEvent documents one event of the code routes' streams; web/sse.go writes them
// field by field (docs/api.md, "Server-sent events"), and TestOpenAPIDescribesRealResponses
// checks real streams against it. content is the text, or on the legacy route's first
// (metadata) event an object; that route's metadata and stream_end events carry no
// sequence or timestamp.
type sseEvent struct {
	Type       string          `json:"type" jsonschema:"enum=start,enum=token,enum=code,enum=done,enum=error,enum=metadata,enum=stream_end"`
	Content    json.RawMessage `json:"content"`
	Text       string          `json:"text,omitempty"`
	Sequence   int             `json:"sequence,omitempty"`
	Timestamp  string          `json:"timestamp,omitempty"`
	IsComplete *bool           `json:"is_complete,omitempty"`
	Metadata   *streamMeta     `json:"metadata,omitempty"`
	ErrorCode  string          `json:"error_code,omitempty"`
	IncidentID string          `json:"incident_id,omitempty"`
	Usage      *tokenUsage     `json:"usage,omitempty"`
}

// openAPIOnce holds the encoded document, built on first use.
type openAPIOnce struct {
	once sync.Once
	body []byte
	err  error
}

// openAPIJSON is the encoded document, built once per server.
func (s *Server) openAPIJSON() ([]byte, error) {
	s.openapi.once.Do(func() {
		doc, err := buildOpenAPI(s.cfg.Version)
		if err == nil {
			s.openapi.body, err = json.Marshal(doc)
		}
		s.openapi.err = err
	})
	return s.openapi.body, s.openapi.err
}

// handleOpenAPI serves GET /openapi.json.
func (s *Server) handleOpenAPI(w http.ResponseWriter, r *http.Request) {
	b, err := s.openAPIJSON()
	if err != nil {
		s.writeError(w, r, realtime.Wrap(realtime.CodeInternal, err))
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("Cache-Control", "no-cache")
	_, _ = w.Write(b)
}

// OpenAPIDocument returns the OpenAPI 3.1 document of a server of this version, as
// /openapi.json serves it (`hapa openapi`, the lint in make openapi-lint).
func OpenAPIDocument(version string) ([]byte, error) {
	doc, err := buildOpenAPI(version)
	if err != nil {
		return nil, err
	}
	return json.MarshalIndent(doc, "", "  ")
}
