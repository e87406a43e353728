package bench

import (
	"context"
	"encoding/json"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/vllm/sim"
)

// recorded is what a gateway sent upstream for benchPrompt (trimmed system prompt).
const recorded = `{"model":"prompt","messages":[{"role":"system","content":"You are HAPA. Use \"f-strings\"."},` +
	`{"role":"user","content":"` + benchPrompt + `"}],"max_tokens":16,"temperature":0.7,"top_p":0.95,` +
	`"stop":["# --- Generation Complete ---"],"stream":true,"stream_options":{"include_usage":true}}`

func TestUpstreamTemplate(t *testing.T) {
	u, err := ParseUpstream("/v1/chat/completions", []byte(recorded))
	if err != nil {
		t.Fatal(err)
	}
	var got map[string]any
	if err := json.Unmarshal(u.Body(40, true)(7), &got); err != nil {
		t.Fatal(err)
	}
	msgs := got["messages"].([]any)
	if got["max_tokens"] != 40.0 || got["top_p"] != 0.95 || len(msgs) != 2 ||
		msgs[1].(map[string]any)["content"] != benchPrompt+" #7" ||
		msgs[0].(map[string]any)["content"] != `You are HAPA. Use "f-strings".` {
		t.Fatalf("body %v", got)
	}
	if b := string(u.Body(16, false)(7)); !strings.Contains(b, `"content":"`+benchPrompt+`"`) {
		t.Fatalf("not unique: %s", b)
	}
	for _, bad := range []string{`{"messages":[{"role":"user","content":"other"}]}`, `{"prompt":"other"}`, `not json`} {
		if _, err := ParseUpstream("/v1/completions", []byte(bad)); err == nil {
			t.Errorf("ParseUpstream(%s) accepted", bad)
		}
	}
	if _, err := ParseUpstream("/v1/completions", []byte(`{"model":"prompt","prompt":"`+benchPrompt+`"}`)); err != nil {
		t.Errorf("a completion request: %v", err)
	}

	// The reference proxy sends the template to the chat route and relays its deltas.
	simSrv := httptest.NewServer(sim.New(sim.Config{}))
	t.Cleanup(simSrv.Close)
	tmpl := filepath.Join(t.TempDir(), "up.json")
	if err := u.WriteTemplate(tmpl, 5); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(tmpl)
	if err != nil {
		t.Fatal(err)
	}
	h, err := RefProxy(simSrv.URL, u.Path, raw)
	if err != nil {
		t.Fatal(err)
	}
	ref := httptest.NewServer(h)
	t.Cleanup(ref.Close)
	hc := NewHTTPClient(4)
	t.Cleanup(hc.CloseIdleConnections)
	load := Load{Concurrency: 2, Duration: time.Minute, MaxRequests: 4}
	for name, target := range map[string]Target{
		"one-shot": RESTTarget(hc, ref.URL, "", GenBody(benchPrompt, 0.7, 99, true)),
		"stream":   SSETarget(hc, ref.URL, "", GenBody(benchPrompt, 0.7, 99, true)),
		"direct":   VLLMPathTarget(hc, simSrv.URL, u.Path, u.Body(5, true)),
	} {
		r := Run(context.Background(), load, target)
		if r.OK != 4 || r.Tokens != 20 || (name != "one-shot" && r.TTFT.Count() != 4) {
			t.Errorf("%s: %d ok, %d tokens (the template's max_tokens 5 each), %d first tokens, errors %v",
				name, r.OK, r.Tokens, r.TTFT.Count(), r.Errors)
		}
	}
	if _, err := RefProxy(simSrv.URL, u.Path, []byte(`{"no":"marker"}`)); err == nil {
		t.Error("a template without the marker was accepted")
	}
}

func TestUpstreamRecorderKeepsTheFirstPost(t *testing.T) {
	rec := &upstreamRecorder{next: sim.New(sim.Config{})}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	hc := NewHTTPClient(1)
	t.Cleanup(hc.CloseIdleConnections)
	target := VLLMPathTarget(hc, srv.URL, "/v1/completions", VLLMBody(benchPrompt, 0.7, 3, true))
	for i := range 2 {
		if s := target.Do(context.Background(), i); s.Err != "" || s.Tokens != 3 {
			t.Fatalf("request %d through the recorder: %+v", i, s)
		}
	}
	path, body := rec.first()
	if path != "/v1/completions" || !strings.Contains(string(body), benchPrompt+" #0") {
		t.Fatalf("recorded %s %s", path, body)
	}
}
