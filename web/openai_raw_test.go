package web

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/hapa-project/hapa/vllm/sim"
)

// These tests read the OpenAI routes as bytes: the exact chunk shapes, key order,
// nulls and framing that clients without an SDK (and vLLM's own) depend on.

func TestOpenAIChatChunkShapes(t *testing.T) {
	oe := newOpenAIEnv(t, openAIOpts{})
	r := oe.rawPost("/v1/chat/completions", map[string]any{"model": "hapa-generate", "stream": true,
		"stream_options": map[string]any{"include_usage": true}, "max_tokens": 24, "temperature": 0,
		"messages": []any{map[string]any{"role": "user", "content": []any{map[string]any{"type": "text", "text": "reverse a list"}}}},
		"tools":    []any{}, "frequency_penalty": 0.5}) // unknown and unsupported fields are ignored
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/event-stream") {
		t.Fatalf("status %d %q: %s", r.StatusCode, r.Header.Get("Content-Type"), r.body)
	}
	evs := openAIEvents(t, r.body)
	if len(evs) < 5 { // role, ≥1 content, finish, usage, [DONE]
		t.Fatalf("only %d events:\n%s", len(evs), r.body)
	}
	var id string
	for i, ev := range evs[:len(evs)-1] {
		m, keys := decodeOrdered(t, ev)
		last := i == len(evs)-2
		wantKeys := []string{"id", "object", "created", "model", "choices"}
		if last {
			wantKeys = append(wantKeys, "usage")
		}
		if !slices.Equal(keys, wantKeys) {
			t.Errorf("event %d keys %v, want %v: %s", i, keys, wantKeys, ev)
		}
		if id == "" {
			id, _ = m["id"].(string)
		}
		if m["id"] != id || !strings.HasPrefix(id, "chatcmpl-") || m["object"] != "chat.completion.chunk" || m["model"] != "hapa-generate" {
			t.Errorf("event %d head: %s", i, ev)
		}
		choices, _ := m["choices"].([]any)
		if last {
			u, _ := m["usage"].(map[string]any)
			if len(choices) != 0 || u["total_tokens"] == nil || u["prompt_tokens"] == nil || u["completion_tokens"] == nil {
				t.Errorf("usage chunk: %s", ev)
			}
			continue
		}
		if len(choices) != 1 {
			t.Fatalf("event %d: %d choices", i, len(choices))
		}
		_, ckeys := decodeOrdered(t, rawChoice(t, ev))
		if want := []string{"index", "delta", "logprobs", "finish_reason"}; !slices.Equal(ckeys, want) {
			t.Errorf("event %d choice keys %v: %s", i, ckeys, ev)
		}
		switch i {
		case 0:
			if !strings.Contains(ev, `"choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]`) {
				t.Errorf("role chunk: %s", ev)
			}
		case len(evs) - 3:
			if !strings.Contains(ev, `"delta":{},"logprobs":null,"finish_reason":"`) {
				t.Errorf("finish chunk: %s", ev)
			}
		default:
			if !strings.Contains(ev, `"finish_reason":null`) || !strings.Contains(ev, `"delta":{"content":"`) {
				t.Errorf("content chunk %d: %s", i, ev)
			}
		}
	}
}

func TestOpenAICompletionChunkShapes(t *testing.T) {
	oe := newOpenAIEnv(t, openAIOpts{})
	r := oe.rawPost("/v1/completions", map[string]any{"model": "hapa-completion", "prompt": []string{"def add(a, b):\n"},
		"suffix": "", "stream": true, "max_tokens": 12, "stop": "\n\n"})
	evs := openAIEvents(t, r.body)
	if r.StatusCode != 200 || len(evs) < 3 {
		t.Fatalf("status %d: %s", r.StatusCode, r.body)
	}
	for i, ev := range evs[:len(evs)-1] {
		m, keys := decodeOrdered(t, ev)
		if !slices.Equal(keys, []string{"id", "object", "created", "model", "choices"}) || m["object"] != "text_completion" ||
			!strings.HasPrefix(m["id"].(string), "cmpl-") {
			t.Errorf("event %d: %s", i, ev)
		}
		_, ckeys := decodeOrdered(t, rawChoice(t, ev))
		if !slices.Equal(ckeys, []string{"index", "text", "logprobs", "finish_reason"}) {
			t.Errorf("event %d choice keys %v", i, ckeys)
		}
	}
	if fin := evs[len(evs)-2]; !strings.Contains(fin, `"text":"","logprobs":null,"finish_reason":"`) {
		t.Errorf("finish chunk: %s", fin)
	}
	if up := oe.upstream.last(t); !strings.HasPrefix(up["prompt"].(string), "<｜fim▁begin｜>") {
		t.Errorf("an empty suffix still selects FIM: %q", up["prompt"])
	}
	if stop, _ := oe.upstream.last(t)["stop"].([]any); !slices.Contains(stop, any("\n\n")) {
		t.Errorf("stop string not passed: %v", stop)
	}
}

func TestOpenAIRawErrors(t *testing.T) {
	oe := newOpenAIEnv(t, openAIOpts{})
	msgs := []any{map[string]any{"role": "user", "content": "hi"}}
	for _, tc := range []struct {
		name   string
		path   string
		body   any
		hdr    []string
		status int
		code   string
		param  any
	}{
		{"no key", "/v1/chat/completions", map[string]any{"messages": msgs}, []string{}, 401, "invalid_api_key", nil},
		{"X-API-Key works", "/v1/models/nope", nil, []string{"X-API-Key", oe.key}, 404, "model_not_found", "model"},
		{"bad JSON", "/v1/chat/completions", `{"messages":`, nil, 400, "invalid_value", nil},
		{"wrong type", "/v1/chat/completions", `{"messages":[],"max_tokens":"many"}`, nil, 400, "invalid_value", "max_tokens"},
		{"no messages", "/v1/chat/completions", map[string]any{"model": "prompt"}, nil, 400, "invalid_value", "messages"},
		{"tool role", "/v1/chat/completions", map[string]any{"messages": []any{map[string]any{"role": "tool", "content": "x"}}}, nil, 400, "invalid_value", "messages"},
		{"image part", "/v1/chat/completions", map[string]any{"messages": []any{map[string]any{"role": "user",
			"content": []any{map[string]any{"type": "image_url"}}}}}, nil, 400, "invalid_value", "messages"},
		{"two prompts", "/v1/completions", map[string]any{"prompt": []string{"a", "b"}}, nil, 400, "invalid_value", "prompt"},
		{"token prompt", "/v1/completions", map[string]any{"prompt": []int{1, 2}}, nil, 400, "invalid_value", "prompt"},
		{"blank prompt", "/v1/completions", map[string]any{"prompt": "  "}, nil, 400, "missing_required_parameter", "prompt"},
		{"bad stop", "/v1/completions", map[string]any{"prompt": "x", "stop": 5}, nil, 400, "invalid_value", "stop"},
		{"max_tokens 0", "/v1/completions", map[string]any{"prompt": "x", "max_tokens": 0}, nil, 400, "invalid_value", "max_tokens"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			hdr := tc.hdr
			if hdr == nil {
				hdr = []string{"Authorization", "Bearer " + oe.key}
			}
			method := http.MethodPost
			if tc.body == nil {
				method = http.MethodGet
			}
			r := oe.do(method, tc.path, tc.body, hdr...)
			if r.StatusCode != tc.status || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
				t.Fatalf("status %d %q, want %d: %s", r.StatusCode, r.Header.Get("Content-Type"), tc.status, r.body)
			}
			m, keys := decodeOrdered(t, string(r.body))
			e, _ := m["error"].(map[string]any)
			if !slices.Equal(keys, []string{"error"}) || e["message"] == "" || e["type"] == nil || e["code"] != tc.code || e["param"] != tc.param {
				t.Errorf("body %s, want code %q param %v", r.body, tc.code, tc.param)
			}
		})
	}
}

func TestOpenAIUnknownModelUpstream(t *testing.T) {
	// Without a configured base model names go upstream; vLLM's 404 is still
	// model_not_found.
	oe := newOpenAIEnv(t, openAIOpts{noBase: true})
	r := oe.rawPost("/v1/chat/completions", map[string]any{"model": "gpt-4", "stream": true,
		"messages": []any{map[string]any{"role": "user", "content": "hi"}}})
	if r.StatusCode != 404 || !strings.Contains(string(r.body), `"code":"model_not_found"`) || !strings.Contains(string(r.body), `"param":"model"`) {
		t.Fatalf("status %d: %s", r.StatusCode, r.body)
	}
	r = oe.do(http.MethodGet, "/v1/models/"+sim.DefaultModel, nil, "Authorization", "Bearer "+oe.key)
	if r.StatusCode != 404 {
		t.Errorf("without a base model it is not listed: %d %s", r.StatusCode, r.body)
	}
	r = oe.rawPost("/v1/chat/completions", map[string]any{"model": sim.DefaultModel, "max_tokens": 4,
		"messages": []any{map[string]any{"role": "user", "content": "hi"}}})
	if r.StatusCode != 200 {
		t.Fatalf("base model by name: %d %s", r.StatusCode, r.body)
	}
}

// rawChoice is the first choice of a chunk as sent (key order kept).
func rawChoice(t *testing.T, ev string) string {
	t.Helper()
	var c struct{ Choices []json.RawMessage }
	if err := json.Unmarshal([]byte(ev), &c); err != nil || len(c.Choices) == 0 {
		t.Fatalf("no choice in %s (%v)", ev, err)
	}
	return string(c.Choices[0])
}

func TestOpenAIModelIDWithSlash(t *testing.T) {
	oe := newOpenAIEnv(t, openAIOpts{})
	for _, path := range []string{"/v1/models/" + sim.DefaultModel, "/v1/models/" + strings.ReplaceAll(sim.DefaultModel, "/", "%2F")} {
		r := oe.do(http.MethodGet, path, nil, "Authorization", "Bearer "+oe.key)
		if r.StatusCode != 200 || !strings.Contains(string(r.body), `"id":"`+sim.DefaultModel+`"`) {
			t.Errorf("GET %s: %d %s", path, r.StatusCode, r.body)
		}
	}
}

func TestOpenAIBodyTooLarge(t *testing.T) {
	oe := newOpenAIEnv(t, openAIOpts{mod: func(c *Config, _ *Deps) { c.MaxBodyBytes = 2048 }})
	body := `{"prompt":"` + strings.Repeat("x", 4096) + `"}`
	// A chunked body (no Content-Length) is cut while the handler reads it.
	req, _ := http.NewRequest(http.MethodPost, oe.ts.URL+"/v1/completions", io.MultiReader(strings.NewReader(body)))
	req.Header.Set("Authorization", "Bearer "+oe.key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != 413 || !strings.Contains(string(b), `"code":"payload_too_large"`) {
		t.Errorf("chunked: %d %s", res.StatusCode, b)
	}
	// A declared Content-Length over the cap is refused by limitBody before routing.
	if r := oe.rawPost("/v1/completions", body); r.StatusCode != 413 {
		t.Errorf("declared length: %d %s", r.StatusCode, r.body)
	}
}
