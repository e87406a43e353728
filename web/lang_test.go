package web

import (
	"strings"
	"testing"
)

// TestErrorLanguage: error bodies, the SSE routes' error body and the /v1 envelope
// follow Accept-Language; without one (or with an unsupported one) they are the
// English texts clients have always received.
func TestErrorLanguage(t *testing.T) {
	env := newEnv(t)
	key, _ := env.newKey(nil, nil, ScopeCodeGeneration)
	for _, tc := range []struct {
		lang, field, want, hint string
	}{
		{"ko", "detail", "API 키가 없거나 유효하지 않습니다", "X-API-Key 헤더나 Authorization: Bearer로 유효한 키를 보내세요"},
		{"ko-KR,ko;q=0.9,en;q=0.8", "message", "API 키가 없거나 유효하지 않습니다", "X-API-Key"},
		{"", "detail", "API key required", "Send a valid key in X-API-Key or Authorization: Bearer"},
		{"fr", "error_message", "API key required", "Send a valid key"},
	} {
		r := env.do("GET", "/api/v1/code/models", nil, "Accept-Language", tc.lang)
		b := r.json(t)
		if r.StatusCode != 401 || b["error_code"] != "E4003" || !strings.HasPrefix(b[tc.field].(string), tc.want) ||
			!strings.HasPrefix(b["recovery_hint"].(string), tc.hint) {
			t.Errorf("%q: %d %v", tc.lang, r.StatusCode, b)
		}
	}

	// A message more specific than its code's keeps its specifics after the Korean text.
	r := env.do("POST", "/api/v1/code/generate", `{"prompt":"x","temperature":3}`, "X-API-Key", key, "Accept-Language", "ko")
	b := r.json(t)
	if msg, _ := b["detail"].(string); !strings.HasPrefix(msg, "값이 허용 범위를 벗어났습니다 (") || !strings.Contains(msg, "temperature") {
		t.Errorf("specific message in Korean: %v", b)
	}
	if d, _ := b["details"].([]any); len(d) == 0 {
		t.Errorf("field details must stay: %v", b)
	}

	// The SSE routes' error body.
	r = env.do("POST", "/api/v1/code/generate/stream", `{"prompt":"x"}`, "Accept-Language", "ko")
	b = r.json(t)
	if b["type"] != "error" || !strings.HasPrefix(b["content"].(string), "API 키가") {
		t.Errorf("SSE error in Korean: %v", b)
	}

	// The /v1 envelope.
	r = env.do("GET", "/v1/models", nil, "Accept-Language", "ko")
	e, _ := r.json(t)["error"].(map[string]any)
	if r.StatusCode != 401 || e == nil || !strings.HasPrefix(e["message"].(string), "API 키가") || e["hapa_code"] != "E4003" {
		t.Errorf("/v1 error in Korean: %d %v", r.StatusCode, e)
	}
	r = env.do("GET", "/v1/models", nil)
	if e, _ := r.json(t)["error"].(map[string]any); e == nil || strings.ContainsAny(e["message"].(string), "가나다라마바사아자차카타파하") {
		t.Errorf("/v1 error without Accept-Language: %v", e)
	}
}
