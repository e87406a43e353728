package realtime

import (
	"strings"
	"testing"

	"github.com/hapa-project/hapa/vllm"
)

func newTestEngine(t *testing.T, cfg EngineConfig, deps EngineDeps) *Engine {
	t.Helper()
	if deps.Upstream == nil {
		deps.Upstream = (*vllm.Client)(nil) // never called by these tests
	}
	e, err := NewEngine(cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(e.cancel)
	return e
}

func TestValidate(t *testing.T) {
	e := newTestEngine(t, EngineConfig{}, EngineDeps{})
	gen := func(mod func(r *Request)) Request {
		r := Request{Kind: KindGeneration, Prompt: "write a function"}
		mod(&r)
		return r
	}
	tests := []struct {
		name  string
		req   Request
		code  Code   // "" = valid
		field string // first field error
	}{
		{"valid generation", gen(func(r *Request) {}), "", ""},
		{"python upper case", gen(func(r *Request) { r.Language = "Python" }), "", ""},
		{"py", gen(func(r *Request) { r.Language = " py " }), "", ""},
		{"javascript", gen(func(r *Request) { r.Language = "javascript" }), CodeUnsupportedLang, "language"},
		{"missing prompt", gen(func(r *Request) { r.Prompt = "" }), CodeMissingField, "prompt"},
		{"blank prompt", gen(func(r *Request) { r.Prompt = " \n\t " }), CodeMissingField, "prompt"},
		{"prompt too long", gen(func(r *Request) { r.Prompt = strings.Repeat("é", 4001) }), CodeOutOfRange, "prompt"},
		{"prompt at limit", gen(func(r *Request) { r.Prompt = strings.Repeat("é", 4000) }), "", ""},
		{"context too long", gen(func(r *Request) { r.Context = strings.Repeat("x", 8001) }), CodeOutOfRange, "context"},
		{"max_tokens too big", gen(func(r *Request) { r.MaxTokens = 4097 }), CodeOutOfRange, "max_tokens"},
		{"max_tokens negative", gen(func(r *Request) { r.MaxTokens = -1 }), CodeOutOfRange, "max_tokens"},
		{"temperature 0 ok", gen(func(r *Request) { r.Temperature = f64(0) }), "", ""},
		{"temperature 2.5", gen(func(r *Request) { r.Temperature = f64(2.5) }), CodeOutOfRange, "temperature"},
		{"top_p 0", gen(func(r *Request) { r.TopP = f64(0) }), CodeOutOfRange, "top_p"},
		{"top_p 1.5", gen(func(r *Request) { r.TopP = f64(1.5) }), CodeOutOfRange, "top_p"},
		{"unknown model_type", gen(func(r *Request) { r.Task = "poetry" }), CodeOutOfRange, "model_type"},
		{"explicit model skips the task table", gen(func(r *Request) { r.Task = "poetry"; r.Model = "prompt" }), "", ""},
		{"bad profile enum", gen(func(r *Request) { r.Profile = &Profile{PythonSkillLevel: "guru"} }), CodeOutOfRange, "profile.pythonSkillLevel"},
		{"bad feature", gen(func(r *Request) { r.Profile = &Profile{PreferredLanguageFeatures: []string{"goto"}} }), CodeOutOfRange, "profile.preferredLanguageFeatures"},
		{"profile alias ok", gen(func(r *Request) { r.Profile = &Profile{ErrorHandlingPreference: "Robust"} }), "", ""},
		{"too many stops", gen(func(r *Request) { r.Stop = make([]string, 9) }), CodeOutOfRange, "stop"},
		{"language before missing", gen(func(r *Request) { r.Language = "go"; r.Prompt = "" }), CodeUnsupportedLang, "language"},
		{"messages instead of prompt", gen(func(r *Request) { r.Prompt = ""; r.Messages = []vllm.Message{{Role: "user", Content: "hi"}} }), "", ""},
		{"bad role", gen(func(r *Request) { r.Prompt = ""; r.Messages = []vllm.Message{{Role: "tool", Content: "hi"}} }), CodeOutOfRange, "messages[0].role"},
		{"completion", Request{Kind: KindCompletion, Prefix: "def f(", Suffix: ")"}, "", ""},
		{"completion without prefix", Request{Kind: KindCompletion, Suffix: "x"}, CodeMissingField, "prefix"},
		{"prefix too long", Request{Kind: KindCompletion, Prefix: strings.Repeat("x", 8001)}, CodeOutOfRange, "prefix"},
		{"suffix too long", Request{Kind: KindCompletion, Prefix: "x", Suffix: strings.Repeat("x", 4001)}, CodeOutOfRange, "suffix"},
		{"kind inferred from prefix", Request{Prefix: "import os\n"}, "", ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			req := tc.req
			err := e.validate(&req)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("unexpected %v (%+v)", err, err.Fields)
				}
				return
			}
			if err == nil {
				t.Fatalf("want %s", tc.code)
			}
			if err.Code != tc.code || len(err.Fields) == 0 || err.Fields[0].Field != tc.field {
				t.Fatalf("got %s %+v, want %s on %s", err.Code, err.Fields, tc.code, tc.field)
			}
		})
	}
}

func TestValidateFillsDefaults(t *testing.T) {
	e := newTestEngine(t, EngineConfig{}, EngineDeps{})
	r := Request{Prefix: "x = "}
	if err := e.validate(&r); err != nil {
		t.Fatal(err)
	}
	if r.Kind != KindCompletion || r.Task != TaskCompletion {
		t.Fatalf("kind %q task %q", r.Kind, r.Task)
	}
	r = Request{Prompt: "hello"}
	if err := e.validate(&r); err != nil || r.Kind != KindGeneration || r.Task != TaskGeneration {
		t.Fatalf("kind %q task %q, %v", r.Kind, r.Task, err)
	}
}

func TestValidateReportsEveryField(t *testing.T) {
	e := newTestEngine(t, EngineConfig{}, EngineDeps{})
	r := Request{Prompt: "x", MaxTokens: 9999, Temperature: f64(-1), TopP: f64(2)}
	err := e.validate(&r)
	if err == nil || err.Code != CodeOutOfRange || len(err.Fields) != 3 || err.Status() != 422 {
		t.Fatalf("got %v %+v", err, err)
	}
}
