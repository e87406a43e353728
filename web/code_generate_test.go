package web

import (
	"bytes"
	"io"
	"strings"
	"testing"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/vllm/sim"
)

func TestCodeGenerate(t *testing.T) {
	ce := newCodeEnv(t, codeOpts{})
	body := map[string]any{"prompt": "read a JSON file", "model_type": "bug_fix", "context": "def f(): pass",
		"programming_level": "beginner", "explanation_detail": "detailed", "max_tokens": 120}
	r := ce.do("POST", "/api/v1/code/generate", body, ce.auth()...)
	if r.StatusCode != 200 {
		t.Fatalf("status %d: %s", r.StatusCode, r.body)
	}
	m := r.json(t)
	ref := ce.direct(t, realtime.Request{Task: "bug_fix", Prompt: "read a JSON file", Context: "def f(): pass", MaxTokens: 120,
		Profile: &realtime.Profile{PythonSkillLevel: "beginner", CodeOutputStructure: "detailed", ExplanationStyle: "detailed"}})
	code, expl := splitCode(cutMarkers(ref.Text))
	if m["success"] != true || m["generated_code"] != code || m["explanation"] != expl || m["model_used"] != "error_fix" {
		t.Errorf("body %s\nwant code %q expl %q", r.body, code, expl)
	}
	if m["cached"] != true { // the same request ran first through the route: the direct call hit its entry
		u := m["token_usage"].(map[string]any)
		if u["completion_tokens"].(float64) != float64(ref.Done.Usage.CompletionTokens) {
			t.Errorf("token_usage %v, engine %+v", u, ref.Done.Usage)
		}
	}
	if m["request_id"] != r.Header.Get("X-Request-ID") || m["error_message"] != "" || m["translation_applied"] != false {
		t.Errorf("body %s", r.body)
	}
	if _, ok := m["confidence_score"]; ok {
		t.Error("confidence_score is sent")
	}
	// The second identical request is a cache hit with the same answer and real usage.
	r2 := ce.do("POST", "/api/v1/code/generate", body, ce.auth()...)
	m2 := r2.json(t)
	if m2["cached"] != true || m2["generated_code"] != m["generated_code"] {
		t.Errorf("second call: %s", r2.body)
	}
	if u := m2["token_usage"].(map[string]any); u["total_tokens"].(float64) <= 0 ||
		u["total_tokens"] != u["prompt_tokens"].(float64)+u["completion_tokens"].(float64) {
		t.Errorf("usage %v", u)
	}
}

func TestCodeGenerateUpstreamFailure(t *testing.T) {
	ce := newCodeEnv(t, codeOpts{sim: sim.Config{Faults: sim.Faults{ErrorInStreamRate: 1}}})
	r := ce.do("POST", "/api/v1/code/generate", map[string]any{"prompt": "x"}, ce.auth()...)
	if r.StatusCode < 500 {
		t.Fatalf("status %d (want a real 5xx, not 200 success:false): %s", r.StatusCode, r.body)
	}
	if m := r.json(t); !strings.HasPrefix(m["incident_id"].(string), "INC-") || m["success"] != nil {
		t.Errorf("body %s", r.body)
	}
}

func TestCodeComplete(t *testing.T) {
	ce := newCodeEnv(t, codeOpts{})
	prefix := "class Stack:\n    def push(self, x):\n        "
	body := map[string]any{"prefix": prefix, "context": "\n    def pop(self):\n", "language": "python",
		"cursor_position": len(prefix), "file_path": "stack.py", "max_suggestions": 3}
	r := ce.do("POST", "/api/v1/code/complete", body, ce.auth()...)
	if r.StatusCode != 200 {
		t.Fatalf("status %d: %s", r.StatusCode, r.body)
	}
	m := r.json(t)
	ref := ce.direct(t, realtime.Request{Kind: realtime.KindCompletion, Prefix: prefix, Suffix: "\n    def pop(self):\n", FilePath: "stack.py"})
	comps := m["completions"].([]any)
	sugg := m["suggestions"].([]any)
	if len(comps) == 0 || len(comps) != len(sugg) {
		t.Fatalf("completions %v suggestions %v", comps, sugg)
	}
	first := comps[0].(map[string]any)
	if first["code"] != cutMarkers(ref.Text) || sugg[0].(map[string]any)["text"] != first["code"] {
		t.Errorf("first completion %q, engine %q", first["code"], ref.Text)
	}
	if m["success"] != true || m["status"] != "success" || m["model_used"] != "autocomplete" ||
		m["completion_length"].(float64) != float64(len([]rune(first["code"].(string)))) {
		t.Errorf("body %s", r.body)
	}
	ca := m["context_analysis"].(map[string]any)
	if ca["context_type"] != "method" || ca["in_class"] != true || ca["in_function"] != true || ca["indentation_level"].(float64) != 8 {
		t.Errorf("context_analysis %v", ca)
	}
	if d, ok := sugg[0].(map[string]any)["documentation"]; !ok || d != nil {
		t.Errorf("documentation %v", d)
	}
}

func TestGenerateCodeLegacy(t *testing.T) {
	ce := newCodeEnv(t, codeOpts{})
	r := ce.do("POST", "/api/v1/generate-code", map[string]any{"user_question": "print hello", "code_context": "",
		"language": "python", "user_profile": map[string]any{"pythonSkillLevel": "expert"}}, ce.auth()...)
	if r.StatusCode != 200 {
		t.Fatalf("status %d: %s", r.StatusCode, r.body)
	}
	m := r.json(t)
	ref := ce.direct(t, realtime.Request{Prompt: "print hello", Profile: &realtime.Profile{PythonSkillLevel: "expert"}})
	code, expl := splitCode(cutMarkers(ref.Text))
	if m["status"] != "success" || m["generated_code"] != code || m["explanation"] != expl {
		t.Errorf("body %s", r.body)
	}
	if _, ok := m["response_time_ms"].(float64); !ok {
		t.Errorf("response_time_ms missing: %s", r.body)
	}
}

func TestLandingPageStream(t *testing.T) {
	ce := newCodeEnv(t, codeOpts{})
	for _, path := range []string{"/api/v1/code/enhanced-stream-generate", "/api/v1/enhanced-stream-generate"} {
		t.Run(path, func(t *testing.T) {
			res := ce.open(t, testCtx(t), path, map[string]any{"user_question": "merge two dicts", "language": "python", "stream": true},
				"X-API-Key", ce.key, "Accept", "text/event-stream", "Cache-Control", "no-cache")
			if res.StatusCode != 200 {
				b, _ := io.ReadAll(res.Body)
				t.Fatalf("status %d: %s", res.StatusCode, b)
			}
			var raw bytes.Buffer
			lp := parseLandingPage(t, io.TeeReader(res.Body, &raw), 64<<10)
			_, _ = io.Copy(&raw, res.Body)
			ref := ce.direct(t, realtime.Request{Prompt: "merge two dicts"})
			if lp.text != cutMarkers(ref.Text) || lp.text == "" || !lp.done || lp.dropped != 0 {
				t.Fatalf("landing page got %q (done %v, dropped %d), want %q", lp.text, lp.done, lp.dropped, ref.Text)
			}
			tt := types(sseEvents(t, raw.String()))
			if tt[0] != "metadata" || tt[1] != "start" || tt[2] != "code" || tt[len(tt)-3] != "done" ||
				tt[len(tt)-2] != "stream_end" || tt[len(tt)-1] != "[DONE]" {
				t.Errorf("event order %v", tt)
			}
			if ext := parseExtension(t, bytes.NewReader(raw.Bytes()), 5); ext.text != lp.text {
				t.Errorf("extension parser disagrees: %q", ext.text)
			}
		})
	}
}

func TestCodeInfoRoutes(t *testing.T) {
	ce := newCodeEnv(t, codeOpts{})
	base := ce.withUpstream(t, poolUpstream(ce.pool, true))
	r := doTo(t, base, "GET", "/api/v1/code/models", nil, ce.auth()...)
	m := r.json(t)
	models := m["available_models"].([]any)
	if r.StatusCode != 200 || m["vllm_server_status"] != "healthy" || len(models) != 5 || models[0] != sim.DefaultModel {
		t.Fatalf("models: %d %s", r.StatusCode, r.body)
	}
	mapping := m["model_mapping"].(map[string]any)
	for _, ad := range []string{"autocomplete", "prompt", "comment", "error_fix"} {
		if _, ok := mapping[ad].(map[string]any)["hapa_types"].([]any); !ok {
			t.Errorf("model_mapping[%s] = %v", ad, mapping[ad])
		}
	}
	r = doTo(t, base, "GET", "/api/v1/code/health", nil, ce.auth()...)
	h := r.json(t)
	vs := h["vllm_server"].(map[string]any)
	if vs["status"] != "healthy" || vs["details"].(map[string]any)["base_url"] != ce.simURL || h["integration_status"] != "active" {
		t.Errorf("health %s", r.body)
	}
	if r = doTo(t, base, "GET", "/api/v1/code/backend/status", nil, ce.auth()...); r.json(t)["backend_type"] != "vllm" {
		t.Errorf("backend status %s", r.body)
	}
	// Without Deps.Upstream the real routes say so.
	r = ce.do("GET", "/api/v1/code/models", nil, ce.auth()...)
	if um := r.json(t); r.StatusCode != 200 || um["vllm_server_status"] != "not_configured" ||
		len(um["model_mapping"].(map[string]any)["prompt"].(map[string]any)["hapa_types"].([]any)) != 3 {
		t.Errorf("unwired models (mapping from the engine): %s", r.body)
	}
	if r = ce.do("GET", "/api/v1/code/health", nil); r.StatusCode != 401 {
		t.Errorf("health without key: %d", r.StatusCode)
	}
	if r = ce.do("POST", "/api/v1/code/backend/switch", map[string]any{"backend_type": "openai"}, ce.auth()...); r.json(t)["success"] != false {
		t.Errorf("switch %s", r.body)
	}
	// code/test runs a real, uncached generation of 16 tokens.
	before := ce.sim.Stats().Requests
	r = ce.do("POST", "/api/v1/code/test?model_type=code_explanation", map[string]any{"test_prompt": "ignored"}, ce.auth()...)
	tm := r.json(t)
	if tm["test_status"] != "success" || tm["model_used"] != "comment" || tm["output_length"].(float64) <= 0 || ce.sim.Stats().Requests != before+1 {
		t.Errorf("code/test %s", r.body)
	}
}
