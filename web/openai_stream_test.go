package web

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"
	"github.com/openai/openai-go/v3/packages/ssestream"

	"github.com/hapa-project/hapa/realtime/limits"
	"github.com/hapa-project/hapa/vllm/sim"
)

func TestOpenAIDisconnectCancelsUpstream(t *testing.T) {
	oe := newOpenAIEnv(t, openAIOpts{sim: sim.Config{ITL: 20 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := chatParams("hapa-generate")
	p.MaxTokens = openai.Int(2000)
	st := oe.client.Chat.Completions.NewStreaming(ctx, p)
	for i := 0; i < 3; i++ { // the role chunk and two content chunks: generating
		if !st.Next() {
			t.Fatalf("stream ended early: %v", st.Err())
		}
	}
	cancel() // the client goes away mid-stream
	_ = st.Close()

	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := oe.sim.WaitAborted(wctx, 1); err != nil {
		t.Fatalf("the simulator saw no abort: %v (stats %+v)", err, oe.sim.Stats())
	}
	for oe.engine.Stats().Flights != 0 {
		if wctx.Err() != nil {
			t.Fatalf("flight still running: %+v", oe.engine.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if s := oe.sim.Stats(); s.Completed != 0 {
		t.Errorf("the generation completed anyway: %+v", s)
	}
}

func TestOpenAIRateLimit(t *testing.T) {
	lim, err := limits.NewLimiter(limits.Config{Rules: map[string]limits.Rate{
		limits.GroupGeneration: {Limit: 1, Period: time.Minute}}}, limits.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	oe := newOpenAIEnv(t, openAIOpts{mod: func(_ *Config, d *Deps) { d.Ops.Limiter = lim }})
	ctx := sdkCtx(t)
	if _, err := oe.client.Chat.Completions.New(ctx, chatParams("hapa-generate")); err != nil {
		t.Fatal(err)
	}
	_, err = oe.client.Chat.Completions.New(ctx, chatParams("hapa-generate"))
	e := apiError(t, err, 429, "rate_limit_error", "rate_limit_exceeded", "")
	if ra, _ := strconv.Atoi(e.Response.Header.Get("Retry-After")); ra < 1 || ra > 60 {
		t.Errorf("Retry-After = %q", e.Response.Header.Get("Retry-After"))
	}
	if e.Response.Header.Get("X-RateLimit-Limit") != "1" || e.Response.Header.Get("X-RateLimit-Remaining") != "0" {
		t.Errorf("X-RateLimit headers: %v", e.Response.Header)
	}
	// Completions on the autocomplete adapter count in their own group.
	prompt := openai.CompletionNewParamsPromptUnion{OfString: openai.String("x = ")}
	if _, err := oe.client.Completions.New(ctx, openai.CompletionNewParams{Model: "hapa-completion", Prompt: prompt, MaxTokens: openai.Int(4)}); err != nil {
		t.Errorf("completion group: %v", err)
	}
}

func TestOpenAIUpstreamErrors(t *testing.T) {
	t.Run("before the first byte: real status", func(t *testing.T) {
		oe := newOpenAIEnv(t, openAIOpts{sim: sim.Config{Faults: sim.Faults{ErrorRate: 1, ErrorStatus: 503}}})
		st := oe.client.Chat.Completions.NewStreaming(sdkCtx(t), chatParams("hapa-generate"))
		for st.Next() {
			t.Fatalf("chunk before the error: %s", st.Current().RawJSON())
		}
		apiError(t, st.Err(), 503, "server_error", "service_unavailable", "")
		_, err := oe.client.Chat.Completions.New(sdkCtx(t), chatParams("hapa-generate"))
		apiError(t, err, 503, "server_error", "service_unavailable", "")
	})
	t.Run("after the first byte: one error event, then [DONE]", func(t *testing.T) {
		oe := newOpenAIEnv(t, openAIOpts{sim: sim.Config{Faults: sim.Faults{ErrorInStreamRate: 1}}})
		r := oe.rawPost("/v1/chat/completions", map[string]any{"model": "hapa-generate", "stream": true, "max_tokens": 40,
			"messages": []any{map[string]any{"role": "user", "content": "hi"}}})
		evs := openAIEvents(t, r.body)
		if r.StatusCode != 200 || len(evs) < 3 {
			t.Fatalf("status %d: %s", r.StatusCode, r.body)
		}
		errEv := evs[len(evs)-2]
		m, keys := decodeOrdered(t, errEv)
		e, _ := m["error"].(map[string]any)
		if len(keys) != 1 || e["type"] != "server_error" || e["code"] != "model_error" || e["message"] == "" {
			t.Errorf("error event: %s", errEv)
		}
		for _, ev := range evs[:len(evs)-2] {
			if strings.Contains(ev, `"error"`) {
				t.Errorf("more than one error event: %s", r.body)
			}
		}
		// The SDK surfaces it as a stream error.
		st := oe.client.Chat.Completions.NewStreaming(sdkCtx(t), chatParams("hapa-generate"))
		for st.Next() {
		}
		var se *ssestream.StreamError
		if !errors.As(st.Err(), &se) {
			t.Errorf("SDK error = %v, want *ssestream.StreamError", st.Err())
		}
	})
}
