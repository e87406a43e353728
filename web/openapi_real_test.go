package web

import (
	"bytes"
	"encoding/json"
	"io"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// componentValidator compiles the served document and returns a check of a JSON value
// against one of its component schemas.
func componentValidator(t *testing.T, raw []byte) func(schema string, body []byte) error {
	t.Helper()
	var doc any
	if err := json.Unmarshal(raw, &doc); err != nil {
		t.Fatal(err)
	}
	c := jsonschema.NewCompiler()
	if err := c.AddResource("mem://openapi.json", doc); err != nil {
		t.Fatal(err)
	}
	return func(schema string, body []byte) error {
		sch, err := c.Compile("mem://openapi.json#/components/schemas/" + schema)
		if err != nil {
			t.Fatalf("compile %s: %v", schema, err)
		}
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(body))
		if err != nil {
			return err
		}
		return sch.Validate(v)
	}
}

// TestOpenAPIDescribesRealResponses: what the handlers really send validates against
// the documented schemas — success bodies, every SSE event, both error envelopes.
func TestOpenAPIDescribesRealResponses(t *testing.T) {
	ce := newCodeEnv(t, codeOpts{})
	_, raw := servedDoc(t)
	valid := componentValidator(t, raw)
	key := ce.auth()
	check := func(what, schema string, status int, r resp) {
		t.Helper()
		if r.StatusCode != status {
			t.Fatalf("%s: status %d: %s", what, r.StatusCode, r.body)
		}
		if err := valid(schema, r.body); err != nil {
			t.Errorf("%s does not match %s: %v\n%s", what, schema, err, r.body)
		}
	}
	gen := map[string]any{"prompt": "reverse a string", "max_tokens": 24}
	check("generate", "CodeGenerationResponse", 200, ce.do("POST", "/api/v1/code/generate", gen, key...))
	check("complete", "CompletionResponse", 200, ce.do("POST", "/api/v1/code/complete", map[string]any{"prefix": "def add(a, b):\n    "}, key...))
	check("models", "ModelsResponse", 200, ce.do("GET", "/api/v1/code/models", nil, key...))
	check("code health", "CodeHealthResponse", 200, ce.do("GET", "/api/v1/code/health", nil, key...))
	check("backend status", "BackendStatusBody", 200, ce.do("GET", "/api/v1/code/backend/status", nil, key...))
	check("health", "HealthBody", 200, ce.do("GET", "/health", nil))
	check("info", "InfoBody", 200, ce.do("GET", "/", nil))
	check("readyz", "ReadyBody", 200, ce.do("GET", "/readyz", nil))
	check("livez", "LiveBody", 200, ce.do("GET", "/livez", nil))
	check("v1 chat", "OpenAIObject", 200, ce.do("POST", "/v1/chat/completions",
		map[string]any{"model": "hapa-generate", "max_tokens": 16, "messages": []map[string]any{{"role": "user", "content": "hi"}}}, key...))
	check("v1 models", "ModelList", 200, ce.do("GET", "/v1/models", nil, key...))
	check("401", "ErrorBody", 401, ce.do("GET", "/api/v1/code/models", nil))
	check("422", "ErrorBody", 422, ce.do("POST", "/api/v1/code/generate", map[string]any{"prompt": "x", "temperature": 3}, key...))
	check("v1 401", "OpenAIErrorEnvelope", 401, ce.do("GET", "/v1/models", nil))

	streams := []struct{ path, schema string }{
		{"/api/v1/code/generate/stream", "SseEvent"},
		{"/api/v1/code/enhanced-stream-generate", "SseEvent"},
		{"/v1/chat/completions", "OpenAIObject"},
	}
	for _, s := range streams {
		body := any(gen)
		switch {
		case strings.HasPrefix(s.path, "/v1/"):
			body = map[string]any{"model": "hapa-generate", "stream": true, "max_tokens": 16, "messages": []map[string]any{{"role": "user", "content": "hi"}}}
		case strings.Contains(s.path, "enhanced"):
			body = map[string]any{"user_question": "reverse a string"}
		}
		res := ce.open(t, testCtx(t), s.path, body, key...)
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		events := 0
		for _, line := range strings.Split(string(b), "\n") {
			data, ok := strings.CutPrefix(line, "data: ")
			if !ok || data == "[DONE]" {
				continue
			}
			events++
			if err := valid(s.schema, []byte(data)); err != nil {
				t.Errorf("%s event does not match %s: %v\n%s", s.path, s.schema, err, data)
			}
		}
		if events < 2 {
			t.Errorf("%s: %d events:\n%s", s.path, events, b)
		}
	}
}
