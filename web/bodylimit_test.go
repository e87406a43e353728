package web

import (
	"strings"
	"testing"
)

// TestBodyLimitSpeaksEachRouteFamily: a declared Content-Length over the cap is refused
// before the route runs, in the error shape that route's clients read.
func TestBodyLimitSpeaksEachRouteFamily(t *testing.T) {
	env := newEnv(t, func(c *Config, _ *Deps) { c.MaxBodyBytes = 2048 })
	big := `{"prompt":"` + strings.Repeat("x", 4096) + `"}`
	tests := []struct {
		name, path string
		check      func(t *testing.T, m map[string]any)
	}{
		{"openai envelope", "/v1/chat/completions", func(t *testing.T, m map[string]any) {
			e, _ := m["error"].(map[string]any)
			if e == nil || e["message"] == "" || e["type"] == nil {
				t.Fatalf("not an OpenAI error envelope: %v", m)
			}
		}},
		{"sse route body", "/api/v1/code/generate/stream", func(t *testing.T, m map[string]any) {
			if m["error_code"] != "E4010" || m["type"] != "error" || m["content"] == nil {
				t.Fatalf("SSE-route body lacks type/content: %v", m)
			}
		}},
		{"standard body", "/api/v1/code/generate", func(t *testing.T, m map[string]any) {
			if m["error_code"] != "E4010" || m["type"] != nil {
				t.Fatalf("standard body: %v", m)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := env.do("POST", tc.path, big)
			if r.StatusCode != 413 {
				t.Fatalf("status %d: %s", r.StatusCode, r.body)
			}
			tc.check(t, r.json(t))
		})
	}
}
