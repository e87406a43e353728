package web

import (
	"errors"
	"strings"
	"testing"

	"github.com/hapa-project/hapa/realtime"
)

// FuzzOpenAIDecode feeds arbitrary bodies to both decoders: they never panic, every
// failure is a client error (4xx in the OpenAI mapping) with a message, and every
// success is a request the engine can take (a kind, n = 1, at most maxTokensLimit).
func FuzzOpenAIDecode(f *testing.F) {
	for _, s := range []string{
		`{"model":"hapa-generate","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}}`,
		`{"messages":[{"role":"developer","content":[{"type":"text","text":"a"},{"type":"text","text":"b"}]},{"role":"assistant","content":null}]}`,
		`{"prompt":["def f():"],"suffix":"\n","stop":["\n\n","#"],"max_completion_tokens":99999,"n":1,"seed":-3}`,
		`{"prompt":[1,2,3]}`, `{"messages":[{"role":"tool"}]}`, `{"n":2}`, `{"stop":7}`, `{"max_tokens":"x"}`,
		`[]`, `null`, `{"prompt":"x"} {}`, `{"stream_options":{},"prompt":"x"}`, "",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		for _, decode := range []func(string) (openAIParsed, error){
			func(s string) (openAIParsed, error) { return decodeChatRequest(strings.NewReader(s)) },
			func(s string) (openAIParsed, error) { return decodeCompletionRequest(strings.NewReader(s)) },
		} {
			p, err := decode(body)
			if err != nil {
				var e *realtime.Error
				if !errors.As(err, &e) {
					t.Fatalf("error %v (%T) is not a *realtime.Error", err, err)
				}
				status, env := openAIErrorOf(e, realtime.LangEN)
				if status < 400 || status >= 500 || env.Error.Message == "" || env.Error.Type != "invalid_request_error" {
					t.Fatalf("body %q: error %d %+v", body, status, env.Error)
				}
				continue
			}
			if p.req.Kind != realtime.KindGeneration && p.req.Kind != realtime.KindCompletion {
				t.Fatalf("body %q: kind %q", body, p.req.Kind)
			}
			if p.req.MaxTokens < 0 || p.req.MaxTokens > maxTokensLimit {
				t.Fatalf("body %q: max_tokens %d", body, p.req.MaxTokens)
			}
			if p.includeUsage && !p.stream {
				t.Fatalf("body %q: include_usage without stream", body)
			}
		}
	})
}
