package web

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/hapa-project/hapa/vllm/sim"
)

// These tests drive the OpenAI-compatible routes with the official Go SDK against the
// real stack (openAIEnv).

func chatParams(model string) openai.ChatCompletionNewParams {
	return openai.ChatCompletionNewParams{
		Model:     model,
		Messages:  []openai.ChatCompletionMessageParamUnion{openai.SystemMessage("Be brief."), openai.UserMessage("Write a function that reverses a string")},
		MaxTokens: openai.Int(48), Temperature: openai.Float(0), Seed: openai.Int(7),
	}
}

func sdkCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestOpenAIChatSDK(t *testing.T) {
	oe := newOpenAIEnv(t, openAIOpts{})
	ctx := sdkCtx(t)
	res, err := oe.client.Chat.Completions.New(ctx, chatParams("hapa-generate"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.ID, "chatcmpl-") || res.Object != "chat.completion" || res.Model != "hapa-generate" || res.Created == 0 {
		t.Errorf("response head = %q %q %q %d", res.ID, res.Object, res.Model, res.Created)
	}
	if len(res.Choices) != 1 {
		t.Fatalf("choices = %d", len(res.Choices))
	}
	c := res.Choices[0]
	if c.Message.Role != "assistant" || c.Message.Content == "" || (c.FinishReason != "stop" && c.FinishReason != "length") {
		t.Errorf("choice = %+v", c)
	}
	u := res.Usage
	if u.PromptTokens == 0 || u.CompletionTokens == 0 || u.TotalTokens != u.PromptTokens+u.CompletionTokens {
		t.Errorf("usage = %+v", u)
	}
	up := oe.upstream.last(t)
	if up["model"] != "prompt" || up["seed"] != float64(7) || up["max_tokens"] != float64(48) {
		t.Errorf("upstream got model=%v seed=%v max_tokens=%v", up["model"], up["seed"], up["max_tokens"])
	}
	msgs, _ := up["messages"].([]any)
	if len(msgs) != 2 || msgs[0].(map[string]any)["content"] != "Be brief." {
		t.Errorf("messages were not sent as given (no personalisation): %v", msgs)
	}

	t.Run("stream", func(t *testing.T) {
		for _, usage := range []bool{false, true} {
			p := chatParams("hapa-generate")
			if usage {
				p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
			}
			st := oe.client.Chat.Completions.NewStreaming(sdkCtx(t), p)
			var text strings.Builder
			var finish string
			var usageChunks, n int
			for st.Next() {
				ch := st.Current()
				if n == 0 && (len(ch.Choices) != 1 || ch.Choices[0].Delta.Role != "assistant") {
					t.Errorf("first chunk is not the role chunk: %s", ch.RawJSON())
				}
				n++
				if ch.ID != "" && !strings.HasPrefix(ch.ID, "chatcmpl-") || ch.Object != "chat.completion.chunk" {
					t.Errorf("chunk head %q %q", ch.ID, ch.Object)
				}
				if len(ch.Choices) == 0 {
					usageChunks++
					if ch.Usage.TotalTokens != u.TotalTokens {
						t.Errorf("stream usage %+v, one-shot %+v", ch.Usage, u)
					}
					continue
				}
				text.WriteString(ch.Choices[0].Delta.Content)
				if ch.Choices[0].FinishReason != "" {
					finish = ch.Choices[0].FinishReason
				}
			}
			if err := st.Err(); err != nil {
				t.Fatal(err)
			}
			if text.String() != c.Message.Content || finish != string(c.FinishReason) {
				t.Errorf("include_usage=%v: stream %q/%s, one-shot %q/%s", usage, text.String(), finish, c.Message.Content, c.FinishReason)
			}
			if want := map[bool]int{false: 0, true: 1}[usage]; usageChunks != want {
				t.Errorf("include_usage=%v: %d usage chunks", usage, usageChunks)
			}
		}
	})
}

func TestOpenAICompletionsSDK(t *testing.T) {
	oe := newOpenAIEnv(t, openAIOpts{})
	ctx := sdkCtx(t)
	prompt := openai.CompletionNewParamsPromptUnion{OfString: openai.String("def fib(n):\n    ")}
	res, err := oe.client.Completions.New(ctx, openai.CompletionNewParams{Model: "hapa-completion", Prompt: prompt,
		MaxTokens: openai.Int(24), Temperature: openai.Float(0)})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(res.ID, "cmpl-") || res.Object != "text_completion" || res.Model != "hapa-completion" ||
		len(res.Choices) != 1 || res.Choices[0].Text == "" || res.Usage.TotalTokens == 0 {
		t.Fatalf("response = %s", res.RawJSON())
	}
	up := oe.upstream.last(t)
	if up["model"] != "autocomplete" || up["prompt"] != "def fib(n):\n    " {
		t.Errorf("without suffix the prompt goes as given: %v %q", up["model"], up["prompt"])
	}

	t.Run("suffix is rendered with the FIM template", func(t *testing.T) {
		_, err := oe.client.Completions.New(ctx, openai.CompletionNewParams{Model: "autocomplete", Prompt: prompt,
			Suffix: openai.String("\n\nprint(fib(10))"), MaxTokens: openai.Int(16)})
		if err != nil {
			t.Fatal(err)
		}
		got, _ := oe.upstream.last(t)["prompt"].(string)
		if want := "<｜fim▁begin｜>def fib(n):\n    <｜fim▁hole｜>\n\nprint(fib(10))<｜fim▁end｜>"; got != want {
			t.Errorf("upstream prompt = %q, want %q", got, want)
		}
		if _, ok := oe.upstream.last(t)["suffix"]; ok {
			t.Error("suffix was sent upstream (vLLM ignores it)")
		}
	})

	t.Run("stream", func(t *testing.T) {
		for _, usage := range []bool{false, true} {
			p := openai.CompletionNewParams{Model: "hapa-completion", Prompt: prompt, MaxTokens: openai.Int(24), Temperature: openai.Float(0)}
			if usage {
				p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
			}
			st := oe.client.Completions.NewStreaming(sdkCtx(t), p)
			var text strings.Builder
			var usageChunks int
			for st.Next() {
				ch := st.Current()
				if ch.Object != "text_completion" {
					t.Errorf("object %q", ch.Object)
				}
				if len(ch.Choices) == 0 {
					usageChunks++
					continue
				}
				text.WriteString(ch.Choices[0].Text)
			}
			if err := st.Err(); err != nil {
				t.Fatal(err)
			}
			if text.String() != res.Choices[0].Text {
				t.Errorf("stream %q, one-shot %q", text.String(), res.Choices[0].Text)
			}
			if want := map[bool]int{false: 0, true: 1}[usage]; usageChunks != want {
				t.Errorf("include_usage=%v: %d usage chunks", usage, usageChunks)
			}
		}
	})

	t.Run("prompt as a one-element array, base model", func(t *testing.T) {
		_, err := oe.client.Completions.New(ctx, openai.CompletionNewParams{Model: sim.DefaultModel,
			Prompt: openai.CompletionNewParamsPromptUnion{OfArrayOfStrings: []string{"import os\n"}}, MaxTokens: openai.Int(8)})
		if err != nil {
			t.Fatal(err)
		}
		if up := oe.upstream.last(t); up["model"] != sim.DefaultModel || up["prompt"] != "import os\n" {
			t.Errorf("upstream %v %q", up["model"], up["prompt"])
		}
	})
}

func TestOpenAIModelsSDK(t *testing.T) {
	oe := newOpenAIEnv(t, openAIOpts{})
	ctx := sdkCtx(t)
	page, err := oe.client.Models.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	ids := map[string]openai.Model{}
	for _, m := range page.Data {
		ids[m.ID] = m
		if m.Object != "model" || m.OwnedBy != "hapa" || m.Created == 0 {
			t.Errorf("model %s", m.RawJSON())
		}
	}
	for _, id := range []string{sim.DefaultModel, "autocomplete", "prompt", "comment", "error_fix",
		"hapa-completion", "hapa-generate", "hapa-explain", "hapa-fix"} {
		if _, ok := ids[id]; !ok {
			t.Errorf("model %q not listed", id)
		}
	}
	m, err := oe.client.Models.Get(ctx, "hapa-fix")
	if err != nil {
		t.Fatal(err)
	}
	if raw := m.RawJSON(); !strings.Contains(raw, `"root":"error_fix"`) || !strings.Contains(raw, `"parent":"`+sim.DefaultModel+`"`) {
		t.Errorf("hapa-fix = %s", raw)
	}
	if m, err := oe.client.Models.Get(ctx, sim.DefaultModel); err != nil || !strings.Contains(m.RawJSON(), `"parent":null`) {
		t.Errorf("base model (id with a slash) = %v, %v", m, err)
	}
	_, err = oe.client.Models.Get(ctx, "gpt-4")
	apiError(t, err, 404, "invalid_request_error", "model_not_found", "model")
}

func TestOpenAIErrorsSDK(t *testing.T) {
	oe := newOpenAIEnv(t, openAIOpts{})
	ctx := sdkCtx(t)

	bad := oe.sdk("hapa_not-a-real-key")
	_, err := bad.Chat.Completions.New(ctx, chatParams("hapa-generate"))
	apiError(t, err, 401, "authentication_error", "invalid_api_key", "")

	_, err = oe.client.Chat.Completions.New(ctx, chatParams("gpt-4o"))
	apiError(t, err, 404, "invalid_request_error", "model_not_found", "model")

	p := chatParams("hapa-generate")
	p.N = openai.Int(2)
	_, err = oe.client.Chat.Completions.New(ctx, p)
	apiError(t, err, 400, "invalid_request_error", "invalid_value", "n")

	p = chatParams("hapa-generate")
	p.StreamOptions = openai.ChatCompletionStreamOptionsParam{IncludeUsage: openai.Bool(true)}
	_, err = oe.client.Chat.Completions.New(ctx, p)
	apiError(t, err, 400, "invalid_request_error", "invalid_value", "stream_options")

	p = chatParams("hapa-generate")
	p.Temperature = openai.Float(3)
	_, err = oe.client.Chat.Completions.New(ctx, p)
	apiError(t, err, 400, "invalid_request_error", "invalid_value", "temperature")

	t.Run("scopes", func(t *testing.T) {
		key, _ := oe.newKey(nil, nil, ScopeCodeCompletion)
		c := oe.sdk(key)
		_, err := c.Chat.Completions.New(ctx, chatParams("hapa-completion"))
		apiError(t, err, 403, "permission_error", "insufficient_scope", "")
		prompt := openai.CompletionNewParamsPromptUnion{OfString: openai.String("x = ")}
		if _, err := c.Completions.New(ctx, openai.CompletionNewParams{Model: "hapa-completion", Prompt: prompt, MaxTokens: openai.Int(4)}); err != nil {
			t.Errorf("code_completion key on the autocomplete adapter: %v", err)
		}
		_, err = c.Completions.New(ctx, openai.CompletionNewParams{Model: "hapa-generate", Prompt: prompt, MaxTokens: openai.Int(4)})
		apiError(t, err, 403, "permission_error", "insufficient_scope", "")
	})
}
