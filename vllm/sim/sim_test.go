package sim

import (
	"bufio"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"go.uber.org/goleak"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

func start(t *testing.T, cfg Config) (*Server, string) {
	t.Helper()
	s := New(cfg)
	ts := httptest.NewServer(s)
	t.Cleanup(ts.Close)
	return s, ts.URL
}

func post(t *testing.T, url, body string, header ...string) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp, string(b)
}

// sseData splits an SSE body into its data payloads.
func sseData(t *testing.T, body string) []string {
	t.Helper()
	var out []string
	sc := bufio.NewScanner(strings.NewReader(body))
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "data: "); ok {
			out = append(out, d)
		} else if sc.Text() != "" {
			t.Fatalf("unexpected line %q", sc.Text())
		}
	}
	return out
}

func decode(t *testing.T, s string) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal([]byte(s), &m); err != nil {
		t.Fatalf("%v: %s", err, s)
	}
	return m
}

func TestStreamShapes(t *testing.T) {
	_, url := start(t, Config{Seed: 1})
	tests := []struct {
		name, path, body string
		object, idPrefix string
		usage            bool
	}{
		{"completion", "/v1/completions", `{"model":"autocomplete","prompt":"def f(x):\n","max_tokens":50,"stream":true,"stream_options":{"include_usage":true}}`,
			"text_completion", "cmpl-", true},
		{"completion without usage", "/v1/completions", `{"model":"autocomplete","prompt":"def f(x):\n","max_tokens":50,"stream":true}`,
			"text_completion", "cmpl-", false},
		{"chat", "/v1/chat/completions", `{"model":"prompt","messages":[{"role":"user","content":"sort a list"}],"max_tokens":300,"stream":true,"stream_options":{"include_usage":true}}`,
			"chat.completion.chunk", "chatcmpl-", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, url+tt.path, tt.body)
			if resp.StatusCode != 200 || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/event-stream") {
				t.Fatalf("%d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
			}
			data := sseData(t, body)
			if data[len(data)-1] != "[DONE]" {
				t.Fatalf("last event %q", data[len(data)-1])
			}
			data = data[:len(data)-1]
			var usage map[string]any
			if tt.usage {
				u := decode(t, data[len(data)-1])
				data = data[:len(data)-1]
				if ch := u["choices"].([]any); len(ch) != 0 || u["usage"] == nil {
					t.Fatalf("usage chunk %v", u)
				}
				usage = u["usage"].(map[string]any)
			}
			tokens, finish := 0, ""
			for i, d := range data {
				m := decode(t, d)
				if m["object"] != tt.object || !strings.HasPrefix(m["id"].(string), tt.idPrefix) ||
					m["model"] == nil || m["created"] == nil {
					t.Fatalf("chunk %s", d)
				}
				ch := m["choices"].([]any)[0].(map[string]any)
				if _, ok := ch["logprobs"]; !ok || ch["index"].(float64) != 0 {
					t.Fatalf("choice %v", ch)
				}
				if _, ok := ch["finish_reason"]; !ok {
					t.Fatalf("no finish_reason key: %s", d)
				}
				text := ""
				if tt.object == "chat.completion.chunk" {
					delta := ch["delta"].(map[string]any)
					if i == 0 {
						if delta["role"] != "assistant" || delta["content"] != "" {
							t.Fatalf("first chat delta %v", delta)
						}
						continue
					}
					text, _ = delta["content"].(string)
				} else {
					text = ch["text"].(string)
					if _, ok := ch["stop_reason"]; !ok {
						t.Fatalf("no stop_reason: %s", d)
					}
				}
				if text != "" {
					tokens++
				}
				if f, _ := ch["finish_reason"].(string); f != "" {
					if i != len(data)-1 {
						t.Fatalf("finish_reason before the last chunk")
					}
					finish = f
				}
			}
			if finish != "stop" && finish != "length" {
				t.Fatalf("finish %q", finish)
			}
			if usage != nil && (int(usage["completion_tokens"].(float64)) != tokens ||
				usage["total_tokens"].(float64) != usage["prompt_tokens"].(float64)+usage["completion_tokens"].(float64)) {
				t.Fatalf("usage %v for %d tokens", usage, tokens)
			}
		})
	}
}

func TestNonStreamShapes(t *testing.T) {
	_, url := start(t, Config{})
	resp, body := post(t, url+"/v1/completions", `{"model":"comment","prompt":"def area(r):","max_tokens":100}`)
	m := decode(t, body)
	if resp.StatusCode != 200 || m["object"] != "text_completion" || m["usage"] == nil {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
	if text := m["choices"].([]any)[0].(map[string]any)["text"].(string); !strings.Contains(text, `"""`) {
		t.Errorf("comment adapter text %q", text)
	}
	resp, body = post(t, url+"/v1/chat/completions", `{"model":"error_fix","messages":[{"role":"user","content":"fix my parser"}],"max_tokens":400}`)
	m = decode(t, body)
	msg := m["choices"].([]any)[0].(map[string]any)["message"].(map[string]any)
	if resp.StatusCode != 200 || m["object"] != "chat.completion" || msg["role"] != "assistant" ||
		!strings.Contains(msg["content"].(string), "--- Fix Explanation ---") {
		t.Fatalf("%d %s", resp.StatusCode, body)
	}
}

func TestErrors(t *testing.T) {
	_, url := start(t, Config{APIKey: "secret", MaxModelLen: 100})
	auth := []string{"Authorization", "Bearer secret"}
	tests := []struct {
		name, path, body string
		header           []string
		status           int
		want             string // substring of the body
	}{
		{"no key", "/v1/completions", `{"model":"prompt","prompt":"x"}`, nil, 401, `{"error":"Unauthorized"}`},
		{"stream_options without stream", "/v1/completions", `{"model":"prompt","prompt":"x","stream_options":{"include_usage":true}}`, auth, 400,
			`{"error":{"code":400,"message":"Stream options can only be defined when ` + "`stream=True`" + `.","param":null,"type":"BadRequestError"}}`},
		{"unknown model", "/v1/chat/completions", `{"model":"gpt-4","messages":[{"role":"user","content":"x"}]}`, auth, 404,
			"The model `gpt-4` does not exist."},
		{"context length", "/v1/completions", `{"model":"prompt","prompt":"x","max_tokens":200}`, auth, 400,
			"This model's maximum context length is 100 tokens. However, you requested 201 tokens (1 in the messages, 200 in the completion)."},
		{"bad json", "/v1/completions", `{`, auth, 400, "BadRequestError"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, body := post(t, url+tt.path, tt.body, tt.header...)
			if resp.StatusCode != tt.status || !strings.Contains(body, tt.want) {
				t.Fatalf("%d %s, want %d %s", resp.StatusCode, body, tt.status, tt.want)
			}
		})
	}
	if resp, err := http.Get(url + "/health"); err != nil || resp.StatusCode != 200 {
		t.Fatalf("health needs no key: %v %v", resp, err)
	} else {
		resp.Body.Close()
	}
}

func TestDeterminismAndAdapters(t *testing.T) {
	_, url := start(t, Config{Seed: 42})
	_, url2 := start(t, Config{Seed: 43})
	body := func(model string) string {
		return `{"model":"` + model + `","prompt":"parse the config file","max_tokens":500,"temperature":0.2}`
	}
	text := func(u, model string) string {
		_, b := post(t, u+"/v1/completions", body(model))
		return decode(t, b)["choices"].([]any)[0].(map[string]any)["text"].(string)
	}
	want := map[string]string{"prompt": "```python\ndef ", "autocomplete": "    ", "comment": `"""`, "error_fix": "--- Fix Explanation ---"}
	for model, sub := range want {
		a, b := text(url, model), text(url, model)
		if a != b || !strings.Contains(a, sub) {
			t.Errorf("%s: %q / %q (want %q)", model, a, b, sub)
		}
		if model == "autocomplete" && countTokens(a) > 60 {
			t.Errorf("autocomplete too long: %d tokens", countTokens(a))
		}
	}
	diff := 0
	for model := range want {
		if text(url, model) != text(url2, model) {
			diff++
		}
	}
	if diff == 0 {
		t.Error("another seed changed nothing")
	}
}

// With stream_options.continuous_usage_stats (as HAPA asks) every chunk carries the
// running usage, as vLLM's does: the prompt count and the tokens sent so far, this
// chunk's included; the final usage chunk agrees.
func TestContinuousUsage(t *testing.T) {
	_, url := start(t, Config{Seed: 1})
	for _, tt := range []struct{ name, path, body string }{
		{"completion", "/v1/completions", `{"model":"autocomplete","prompt":"def f(x):\n","max_tokens":20,"stream":true,"stream_options":{"include_usage":true,"continuous_usage_stats":true}}`},
		{"chat", "/v1/chat/completions", `{"model":"prompt","messages":[{"role":"user","content":"sort a list"}],"max_tokens":20,"stream":true,"stream_options":{"include_usage":true,"continuous_usage_stats":true}}`},
	} {
		t.Run(tt.name, func(t *testing.T) {
			_, body := post(t, url+tt.path, tt.body)
			data := sseData(t, body)
			data = data[:len(data)-1] // [DONE]
			final := decode(t, data[len(data)-1])["usage"].(map[string]any)
			prompt := final["prompt_tokens"].(float64)
			sent := 0.0
			for _, d := range data[:len(data)-1] {
				m := decode(t, d)
				u, ok := m["usage"].(map[string]any)
				if !ok {
					t.Fatalf("chunk without running usage: %s", d)
				}
				ch := m["choices"].([]any)[0].(map[string]any)
				text, _ := ch["text"].(string)
				if delta, ok := ch["delta"].(map[string]any); ok {
					text, _ = delta["content"].(string)
				}
				if text != "" {
					sent++
				}
				if u["prompt_tokens"] != prompt || u["completion_tokens"] != sent || u["total_tokens"] != prompt+sent {
					t.Fatalf("running usage %v after %v tokens: %s", u, sent, d)
				}
			}
			if final["completion_tokens"] != sent {
				t.Fatalf("final usage %v, %v tokens sent", final, sent)
			}
		})
	}
}
