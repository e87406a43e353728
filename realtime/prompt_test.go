package realtime

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/hapa-project/hapa/vllm"
)

// rendered validates and renders req the way Start does.
func rendered(t *testing.T, e *Engine, req Request) vllm.Request {
	t.Helper()
	if err := e.validate(&req); err != nil {
		t.Fatalf("validate: %v", err)
	}
	return e.render(context.Background(), req).upstream
}

func TestPersonalisationChangesPrompt(t *testing.T) {
	e := newTestEngine(t, EngineConfig{}, EngineDeps{})
	withProfile := func(p Profile) vllm.Request {
		return rendered(t, e, Request{Prompt: "write a function that reads a config file", Profile: &p})
	}
	beginner := withProfile(Profile{PythonSkillLevel: "beginner"})
	expert := withProfile(Profile{PythonSkillLevel: "expert"})
	if beginner.Messages[0].Content == expert.Messages[0].Content {
		t.Fatal("skill level does not change the system message")
	}
	tests := []struct {
		name string
		p    Profile
		want string
	}{
		{"beginner", Profile{PythonSkillLevel: "beginner"}, "Python beginner"},
		{"expert", Profile{PythonSkillLevel: "expert"}, "Python expert"},
		{"educational", Profile{ExplanationStyle: "educational"}, "step by step"},
		{"brief", Profile{ExplanationStyle: "brief"}, "one or two sentences"},
		{"minimal structure", Profile{CodeOutputStructure: "minimal"}, "only the essential code"},
		{"data science", Profile{ProjectContext: "data_science"}, "pandas"},
		{"production errors", Profile{ErrorHandlingPreference: "production_ready"}, "production-ready error handling"},
		{"features", Profile{PreferredLanguageFeatures: []string{"dataclasses", "async_await"}}, "dataclasses, async/await"},
		{"defaults", Profile{}, "intermediate Python programmer"},
		{"default features", Profile{}, "type hints, f-strings"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			up := withProfile(tc.p)
			if up.Model != vllm.AdapterPrompt || up.Messages[0].Role != "system" {
				t.Fatalf("upstream %+v", up)
			}
			if !strings.Contains(up.Messages[0].Content, tc.want) {
				t.Fatalf("system message lacks %q:\n%s", tc.want, up.Messages[0].Content)
			}
		})
	}
}

func TestContextIsSent(t *testing.T) {
	e := newTestEngine(t, EngineConfig{}, EngineDeps{})
	up := rendered(t, e, Request{Prompt: "fix the bug", Task: "bug_fix", Context: "def f(x):\n    return x +\n"})
	if up.Model != vllm.AdapterErrorFix {
		t.Fatalf("model %q", up.Model)
	}
	user := up.Messages[len(up.Messages)-1]
	want := "fix the bug\n\nCode context:\n```python\ndef f(x):\n    return x +\n```"
	if user.Role != "user" || user.Content != want {
		t.Fatalf("user message %q, want %q", user.Content, want)
	}
	if !strings.Contains(up.Messages[0].Content, "Find the bug") {
		t.Fatalf("task instruction missing: %s", up.Messages[0].Content)
	}
}

func TestStoredProfileMergedWithOverride(t *testing.T) {
	profiles := fakeProfiles{7: {PythonSkillLevel: "beginner", ProjectContext: "web_development", ExplanationStyle: "bogus"}}
	cache := newFakeCache()
	e := newTestEngine(t, EngineConfig{}, EngineDeps{Profiles: profiles, Cache: cache})
	req := Request{Prompt: "serve a file", Caller: Caller{UserID: 7}, Profile: &Profile{ProjectContext: "automation"}}
	sys := rendered(t, e, req).Messages[0].Content
	for _, want := range []string{"Python beginner", "automation project", "short explanation"} {
		if !strings.Contains(sys, want) {
			t.Errorf("system message lacks %q:\n%s", want, sys)
		}
	}
	if strings.Contains(sys, "web development") {
		t.Error("override did not win over the stored project context")
	}
	if _, ok, _ := cache.Get(context.Background(), NamespaceProfiles, "7"); !ok {
		t.Error("stored profile not cached in user_profiles")
	}
}

func TestSamplingAdjustments(t *testing.T) {
	e := newTestEngine(t, EngineConfig{}, EngineDeps{})
	tests := []struct {
		name     string
		req      Request
		maxTok   int
		temp     float64
		wantTopP float64
	}{
		{"defaults", Request{Prompt: "x"}, 1024, 0.3, 0.95},
		{"beginner more tokens", Request{Prompt: "x", Profile: &Profile{PythonSkillLevel: "beginner"}}, 1536, 0.3, 0.95},
		{"expert fewer tokens, integral", Request{Prompt: "x", Profile: &Profile{PythonSkillLevel: "expert"}}, 819, 0.3, 0.95},
		{"minimal structure cooler", Request{Prompt: "x", Profile: &Profile{CodeOutputStructure: "minimal"}}, 1024, 0.24, 0.95},
		{"explicit values win", Request{Prompt: "x", MaxTokens: 100, TopP: f64(0.5), Profile: &Profile{PythonSkillLevel: "beginner"}}, 100, 0.3, 0.5},
		{"explicit zero temperature stays zero", Request{Prompt: "x", Temperature: f64(0)}, 1024, 0, 0.95},
		{"completion defaults", Request{Kind: KindCompletion, Prefix: "x"}, 64, 0.1, 0.9},
		{"raw skips personalisation", Request{Prompt: "x", Raw: true, Model: "prompt", Profile: &Profile{PythonSkillLevel: "beginner"}}, 1024, 0.3, 0.95},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			up := rendered(t, e, tc.req)
			if up.MaxTokens != tc.maxTok || up.Temperature != tc.temp || up.TopP != tc.wantTopP {
				t.Fatalf("got %d/%v/%v, want %d/%v/%v", up.MaxTokens, up.Temperature, up.TopP, tc.maxTok, tc.temp, tc.wantTopP)
			}
		})
	}
}

func TestFIMRendering(t *testing.T) {
	e := newTestEngine(t, EngineConfig{}, EngineDeps{})
	up := rendered(t, e, Request{Kind: KindCompletion, Prefix: "def add(a, b):\n    ", Suffix: "\n\nprint(add(1, 2))", Stop: []string{"\n\n"}})
	want := "<｜fim▁begin｜>def add(a, b):\n    <｜fim▁hole｜>\n\nprint(add(1, 2))<｜fim▁end｜>"
	if up.Prompt != want || up.Model != vllm.AdapterAutocomplete || up.Chat() {
		t.Fatalf("prompt %q model %q", up.Prompt, up.Model)
	}
	if !slices.Contains(up.Stop, "\n\n") || !slices.Contains(up.Stop, "<｜fim▁begin｜>") {
		t.Fatalf("stop %q", up.Stop)
	}
	qwen := newTestEngine(t, EngineConfig{Family: vllm.FamilyQwenCoder}, EngineDeps{})
	if up := rendered(t, qwen, Request{Prefix: "x = "}); !strings.HasPrefix(up.Prompt, "<|fim_prefix|>x = ") {
		t.Fatalf("qwen prompt %q", up.Prompt)
	}
	// The extension's inline provider sends code_completion generations.
	up = rendered(t, e, Request{Prompt: "for i in ", Task: TaskCompletion, Context: "items = [1, 2]"})
	if up.Prompt != "<｜fim▁begin｜>items = [1, 2]\nfor i in <｜fim▁hole｜><｜fim▁end｜>" {
		t.Fatalf("code_completion generation prompt %q", up.Prompt)
	}
}

func TestMessagesAndRaw(t *testing.T) {
	e := newTestEngine(t, EngineConfig{}, EngineDeps{})
	msgs := []vllm.Message{{Role: "system", Content: "Be nice."}, {Role: "user", Content: "hi"}}
	up := rendered(t, e, Request{Messages: msgs})
	if len(up.Messages) != 2 || !strings.HasSuffix(up.Messages[0].Content, "\n\nBe nice.") ||
		!strings.Contains(up.Messages[0].Content, "HAPA") {
		t.Fatalf("personalised messages %+v", up.Messages)
	}
	raw := rendered(t, e, Request{Messages: msgs, Raw: true, Model: "deepseek-coder"})
	if !slices.Equal(raw.Messages, msgs) || raw.Model != "deepseek-coder" || len(raw.Stop) != 0 {
		t.Fatalf("raw %+v", raw)
	}
	if msgs[0].Content != "Be nice." {
		t.Fatal("caller's messages modified")
	}
}
