package web

import (
	"errors"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hapa-project/hapa/realtime"
)

// The request bodies of the code routes are untrusted: decoding and validation must
// never panic, must answer only catalogue client errors, and what passes must be
// within the contract's limits.

func fuzzSeeds(f *testing.F) {
	for _, s := range []string{
		`{"prompt":"x"}`, `{"prompt":"write","model_type":"bug_fix","temperature":0.2,"top_p":0.9,"max_tokens":10}`,
		`{"prompt":"a","userProfile":{"pythonSkillLevel":"expert","preferredLanguageFeatures":["type_hints"]}}`,
		`{"prompt":null,"context":null}`, `{"prefix":"def f(","context":"\n","max_suggestions":3}`,
		`{"user_question":"hi","code_context":"x","stream":true}`, `[]`, `{"prompt":1e400}`, `{"max_tokens":1.5}`,
		`{"prompt":"\ud800"}`, `{} {}`, `{"prompt":"x","project_context":"data_science"}`,
	} {
		f.Add(s)
	}
}

func checkDecodeErr(t *testing.T, err error) {
	t.Helper()
	var e *realtime.Error
	if !errors.As(err, &e) || e.Status() >= 500 {
		t.Fatalf("decode error is not a client catalogue error: %v", err)
	}
}

func FuzzCodeGenerationRequest(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, body string) {
		var b codeGenerationRequest
		if err := decodeJSONFrom(strings.NewReader(body), &b); err != nil {
			checkDecodeErr(t, err)
			return
		}
		if err := b.validate(); err != nil {
			checkDecodeErr(t, err)
			return
		}
		req := b.engineRequest(httptest.NewRequest("POST", "/api/v1/code/generate", nil))
		if strings.TrimSpace(req.Prompt) == "" || utf8.RuneCountInString(*b.Prompt) > maxPromptChars {
			t.Fatalf("accepted prompt %q", req.Prompt)
		}
		if req.MaxTokens < 0 || req.MaxTokens > maxTokensLimit || req.Kind != realtime.KindGeneration {
			t.Fatalf("accepted %+v", req)
		}
	})
}

func FuzzCompletionRequest(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, body string) {
		var b completionRequest
		if err := decodeJSONFrom(strings.NewReader(body), &b); err != nil {
			checkDecodeErr(t, err)
			return
		}
		if err := b.validate(); err != nil {
			checkDecodeErr(t, err)
			return
		}
		if strings.TrimSpace(*b.Prefix) == "" || utf8.RuneCountInString(b.suffix()) > maxSuffixChars {
			t.Fatalf("accepted %+v", b)
		}
		_ = analyseContext(*b.Prefix)
	})
}

func FuzzLegacyRequest(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, body string) {
		var b legacyRequest
		if err := decodeJSONFrom(strings.NewReader(body), &b); err != nil {
			checkDecodeErr(t, err)
			return
		}
		if err := b.validate(maxQuestionChars); err != nil {
			checkDecodeErr(t, err)
			return
		}
		req := b.engineRequest(httptest.NewRequest("POST", "/api/v1/enhanced-stream-generate", nil))
		if req.Prompt == "" || utf8.RuneCountInString(*b.UserQuestion) > maxQuestionChars {
			t.Fatalf("accepted %+v", req)
		}
	})
}

// FuzzMarkerCut checks that pieces give the same text as the whole, and no marker
// survives.
func FuzzMarkerCut(f *testing.F) {
	f.Add("a<|EO", "T|>b", "c")
	f.Add("[DO", "NE", "]")
	f.Add("# --- Generation", " Complete ---", "")
	f.Fuzz(func(t *testing.T, a, b, c string) {
		var m markerCut
		var out strings.Builder
		for _, p := range []string{a, b, c} {
			s, _ := m.push(p)
			out.WriteString(s)
		}
		out.WriteString(m.flush())
		if out.String() != cutMarkers(a+b+c) {
			t.Fatalf("pieces %q → %q, whole → %q", []string{a, b, c}, out.String(), cutMarkers(a+b+c))
		}
		if firstMarker(out.String()) >= 0 {
			t.Fatalf("a marker survived: %q", out.String())
		}
	})
}
