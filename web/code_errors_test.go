package web

import (
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime/limits"
)

// snippets is n context snippets of size characters each.
func snippets(n, size int) []map[string]string {
	out := make([]map[string]string, n)
	for i := range out {
		out[i] = map[string]string{"path": "a.py", "text": strings.Repeat("s", size)}
	}
	return out
}

func TestCodeRoutesBadInput(t *testing.T) {
	ce := newCodeEnv(t, codeOpts{mod: func(c *Config, _ *Deps) { c.MaxBodyBytes = 64 << 10 }})
	onlyComplete, _ := ce.newKey(nil, nil, ScopeCodeCompletion)
	big := strings.Repeat("x", 70<<10)
	cases := []struct {
		name, path string
		body       any
		hdr        []string
		status     int
		code       string
		field      string
	}{
		{"stream no key", "/api/v1/code/generate/stream", map[string]any{"prompt": "x"}, nil, 401, "E4003", ""},
		{"stream bad key", "/api/v1/code/generate/stream", map[string]any{"prompt": "x"}, []string{"X-API-Key", "hapa_nope"}, 401, "E4003", ""},
		{"stream wrong scope", "/api/v1/code/generate/stream", map[string]any{"prompt": "x"}, []string{"X-API-Key", onlyComplete}, 403, "E4005", ""},
		{"stream bad JSON", "/api/v1/code/generate/stream", `{"prompt":`, ce.auth(), 400, "E4001", ""},
		{"stream wrong type", "/api/v1/code/generate/stream", `{"prompt":5}`, ce.auth(), 400, "E4001", "prompt"},
		{"stream missing prompt", "/api/v1/code/generate/stream", map[string]any{"context": "x"}, ce.auth(), 400, "E4002", "prompt"},
		{"stream blank prompt", "/api/v1/code/generate/stream", map[string]any{"prompt": "   "}, ce.auth(), 400, "E4002", "prompt"},
		{"stream prompt too long", "/api/v1/code/generate/stream", map[string]any{"prompt": strings.Repeat("é", 4001)}, ce.auth(), 422, "E4008", "prompt"},
		{"stream context too long", "/api/v1/code/generate/stream", map[string]any{"prompt": "x", "context": strings.Repeat("a", 8001)}, ce.auth(), 422, "E4008", "context"},
		{"stream temperature", "/api/v1/code/generate/stream", map[string]any{"prompt": "x", "temperature": 2.5}, ce.auth(), 422, "E4008", "temperature"},
		{"stream top_p", "/api/v1/code/generate/stream", map[string]any{"prompt": "x", "top_p": 1.5}, ce.auth(), 422, "E4008", "top_p"},
		{"stream max_tokens", "/api/v1/code/generate/stream", map[string]any{"prompt": "x", "max_tokens": 0}, ce.auth(), 422, "E4008", "max_tokens"},
		{"stream model_type", "/api/v1/code/generate/stream", map[string]any{"prompt": "x", "model_type": "poetry"}, ce.auth(), 422, "E4008", "model_type"},
		{"stream language", "/api/v1/code/generate/stream", map[string]any{"prompt": "x", "language": "javascript"}, ce.auth(), 422, "E4009", "language"},
		{"stream too large", "/api/v1/code/generate/stream", `{"prompt":"` + big + `"}`, ce.auth(), 413, "E4010", ""},
		{"generate language", "/api/v1/code/generate", map[string]any{"prompt": "x", "language": "go"}, ce.auth(), 422, "E4009", "language"},
		{"generate bad JSON", "/api/v1/code/generate", `[1,2]`, ce.auth(), 400, "E4001", ""},
		{"generate no key", "/api/v1/code/generate", map[string]any{"prompt": "x"}, nil, 401, "E4003", ""},
		{"complete missing prefix", "/api/v1/code/complete", map[string]any{"suffix": "x"}, ce.auth(), 400, "E4002", "prefix"},
		{"complete max_suggestions", "/api/v1/code/complete", map[string]any{"prefix": "x", "max_suggestions": 21}, ce.auth(), 422, "E4008", "max_suggestions"},
		{"complete suffix too long", "/api/v1/code/complete", map[string]any{"prefix": "x", "context": strings.Repeat("a", 4001)}, ce.auth(), 422, "E4008", "context"},
		{"complete prefix too long", "/api/v1/code/complete", map[string]any{"prefix": strings.Repeat("a", 8001)}, ce.auth(), 422, "E4008", "prefix"},
		{"complete language", "/api/v1/code/complete", map[string]any{"prefix": "x", "language": "cobol"}, ce.auth(), 422, "E4009", "language"},
		{"complete too many snippets", "/api/v1/code/complete", map[string]any{"prefix": "x", "context_snippets": snippets(33, 10)}, ce.auth(), 413, "E4010", "context_snippets"},
		{"complete snippet too large", "/api/v1/code/complete", map[string]any{"prefix": "x", "context_snippets": snippets(1, 20001)}, ce.auth(), 413, "E4010", "context_snippets[0].text"},
		{"complete snippet without text", "/api/v1/code/complete", map[string]any{"prefix": "x", "context_snippets": []map[string]string{{"path": "a.py"}}}, ce.auth(), 400, "E4002", "context_snippets[0].text"},
		{"complete snippets wrong type", "/api/v1/code/complete", map[string]any{"prefix": "x", "context_snippets": "a.py"}, ce.auth(), 400, "E4001", "context_snippets"},
		{"stream too many snippets", "/api/v1/code/generate/stream", map[string]any{"prompt": "x", "context_snippets": snippets(33, 10)}, ce.auth(), 413, "E4010", "context_snippets"},
		{"generate file_path too long", "/api/v1/code/generate", map[string]any{"prompt": "x", "file_path": strings.Repeat("p", 1001)}, ce.auth(), 422, "E4008", "file_path"},
		{"complete wrong scope", "/api/v1/code/complete", map[string]any{"prefix": "x"}, []string{"X-API-Key", ce.mustKey(t, ScopeCodeGeneration)}, 403, "E4005", ""},
		{"legacy stream question too long", "/api/v1/code/enhanced-stream-generate", map[string]any{"user_question": strings.Repeat("q", 2001)}, ce.auth(), 422, "E4008", "user_question"},
		{"legacy stream missing question", "/api/v1/enhanced-stream-generate", map[string]any{"language": "python"}, ce.auth(), 400, "E4002", "user_question"},
		{"legacy stream no key", "/api/v1/enhanced-stream-generate", map[string]any{"user_question": "x"}, nil, 401, "E4003", ""},
		{"generate-code missing question", "/api/v1/generate-code", map[string]any{}, ce.auth(), 400, "E4002", "user_question"},
		{"generate-code language", "/api/v1/generate-code", map[string]any{"user_question": "x", "language": "c"}, ce.auth(), 422, "E4009", "language"},
		{"test bad model_type", "/api/v1/code/test?model_type=nope", map[string]any{}, ce.auth(), 422, "E4008", "model_type"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := ce.do("POST", tc.path, tc.body, tc.hdr...)
			m := checkError(t, r, tc.status, tc.code)
			// The 413 for a declared Content-Length comes from limitBody, before the
			// route; it picks the SSE-route body too.
			sse := strings.Contains(tc.path, "stream")
			if sse {
				if m["type"] != "error" || m["content"] != m["detail"] || m["is_complete"] != true {
					t.Errorf("SSE-route error body lacks type/content: %s", r.body)
				}
			} else if _, ok := m["type"]; ok {
				t.Errorf("non-SSE error body has type: %s", r.body)
			}
			if !strings.HasSuffix(string(r.body), "}\n") {
				t.Errorf("body does not end with a newline: %q", r.body)
			}
			if tc.field != "" {
				found := false
				details, _ := m["details"].([]any)
				for _, d := range details {
					if d.(map[string]any)["field"] == tc.field {
						found = true
					}
				}
				if !found {
					t.Errorf("details do not name %q: %s", tc.field, r.body)
				}
			}
		})
	}
	if n := ce.sim.Stats().Requests; n != 0 {
		t.Errorf("rejected requests reached the simulator %d times", n)
	}
}

// mustKey creates a key with scopes.
func (ce *codeEnv) mustKey(t *testing.T, scopes ...string) string {
	k, _ := ce.newKey(nil, nil, scopes...)
	return k
}

func TestCodeRoutesWithoutEngine(t *testing.T) {
	ce := newCodeEnv(t, codeOpts{noEngine: true})
	checkError(t, ce.do("POST", "/api/v1/code/generate", map[string]any{"prompt": "x"}, ce.auth()...), 503, "E5005")
	m := checkError(t, ce.do("POST", "/api/v1/code/generate/stream", map[string]any{"prompt": "x"}, ce.auth()...), 503, "E5005")
	if m["type"] != "error" {
		t.Errorf("stream error %v", m)
	}
}

func TestCodeStreamCORSPreflight(t *testing.T) {
	ce := newCodeEnv(t, codeOpts{})
	for _, path := range []string{"/api/v1/code/enhanced-stream-generate", "/api/v1/enhanced-stream-generate", "/api/v1/code/generate/stream"} {
		r := ce.do("OPTIONS", path, nil, "Origin", "http://localhost:3000", "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "content-type,x-api-key,cache-control")
		if r.StatusCode/100 != 2 || r.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
			t.Fatalf("%s preflight: %d %v", path, r.StatusCode, r.Header)
		}
		allow := strings.ToLower(r.Header.Get("Access-Control-Allow-Headers"))
		for _, h := range []string{"x-api-key", "cache-control", "content-type"} {
			if !strings.Contains(allow, h) {
				t.Errorf("%s: %s not allowed (%q)", path, h, allow)
			}
		}
		res := ce.do("POST", path, map[string]any{"user_question": "hi", "prompt": "hi"}, append(ce.auth(), "Origin", "http://localhost:3000")...)
		if res.StatusCode != 200 || res.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
			t.Errorf("%s: %d, ACAO %q", path, res.StatusCode, res.Header.Get("Access-Control-Allow-Origin"))
		}
	}
}

func TestCodeStreamRateLimited(t *testing.T) {
	l, err := limits.NewLimiter(limits.Config{Rules: map[string]limits.Rate{limits.GroupStream: {Limit: 1, Period: time.Minute}}}, limits.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	ce := newCodeEnv(t, codeOpts{mod: func(_ *Config, d *Deps) { d.Ops.Limiter = l }})
	body := map[string]any{"prompt": "x", "user_question": "x"}
	if r := ce.do("POST", "/api/v1/code/generate/stream", body, ce.auth()...); r.StatusCode != 200 {
		t.Fatalf("first: %d %s", r.StatusCode, r.body)
	}
	for _, path := range []string{"/api/v1/code/generate/stream", "/api/v1/enhanced-stream-generate"} {
		r := ce.do("POST", path, body, ce.auth()...)
		m := checkError(t, r, 429, "E4004")
		if m["type"] != "error" || m["content"] == "" || r.Header.Get("Retry-After") == "" {
			t.Errorf("%s: %s", path, r.body)
		}
	}
	// Other groups keep their own budget.
	if r := ce.do("POST", "/api/v1/code/generate", body, ce.auth()...); r.StatusCode != 200 {
		t.Errorf("generate: %d %s", r.StatusCode, r.body)
	}
}
