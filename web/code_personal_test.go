package web

import (
	"bytes"
	"io"
	"testing"

	"github.com/hapa-project/hapa/realtime"
)

// TestCodeStreamPersonalisedJWT streams as the extension does after onboarding: a
// Bearer JWT, the legacy profile fields and a free-text project_context, and checks
// the text is what the engine produces for the mapped request.
func TestCodeStreamPersonalisedJWT(t *testing.T) {
	ce := newCodeEnv(t, codeOpts{})
	uid := ce.newUser("dev@example.com")
	pair, err := ce.srv.tokens.Pair(uid, "dev@example.com")
	if err != nil {
		t.Fatal(err)
	}
	body := map[string]any{"prompt": "load a config file", "context": "import json", "programming_level": "advanced",
		"explanation_detail": "minimal", "project_context": "CLI tool for log files",
		"userProfile": map[string]any{"errorHandlingPreference": "production_ready"}}
	res := ce.open(t, testCtx(t), "/api/v1/code/generate/stream?enhanced=true", body, "Authorization", "Bearer "+pair.AccessToken)
	raw, _ := io.ReadAll(res.Body)
	if res.StatusCode != 200 {
		t.Fatalf("status %d: %s", res.StatusCode, raw)
	}
	got := parseExtension(t, bytes.NewReader(raw), 11).text
	ref := ce.direct(t, realtime.Request{Prompt: "load a config file", Context: "# Project context: CLI tool for log files\nimport json",
		Caller: realtime.Caller{UserID: uid}, NoCache: true,
		Profile: &realtime.Profile{PythonSkillLevel: "advanced", CodeOutputStructure: "minimal", ExplanationStyle: "brief",
			ErrorHandlingPreference: "production_ready"}})
	if got != cutMarkers(ref.Text) || got == "" {
		t.Fatalf("text %q, engine %q", got, ref.Text)
	}
	// A different profile renders a different prompt, so the answer changes.
	plain := ce.direct(t, realtime.Request{Prompt: "load a config file", Context: "import json", NoCache: true})
	if plain.Text == ref.Text {
		t.Error("the profile and project context did not change the generation")
	}
}
