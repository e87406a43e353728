package web

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/realtime/codectx"
	"github.com/hapa-project/hapa/vllm/sim"
)

// neighbour is a 200-line file of the editor's workspace that shares no identifier
// with the cursor's code.
func neighbour(i int) map[string]string {
	var b strings.Builder
	for j := 0; strings.Count(b.String(), "\n") < 200; j++ {
		fmt.Fprintf(&b, "def render_widget_%d_%d(canvas, palette):\n    canvas.paint(palette.hue_%d)\n\n", i, j, j)
	}
	return map[string]string{"path": fmt.Sprintf("ui/widget_%02d.py", i), "text": b.String()}
}

// pricingFile holds what the cursor needs (apply_discount, Coupon) deep in a long file.
var pricingFile = map[string]string{"path": "shop/pricing.py", "text": strings.Repeat("import logging\n", 120) +
	"class Coupon:\n    rate: float\n\n\ndef apply_discount(subtotal, coupon):\n    return subtotal * (1 - coupon.rate)\n" +
	strings.Repeat("logging.info('ready')\n", 60)}

const (
	cartPrefix = "from shop.pricing import Coupon, apply_discount\n\n\ndef checkout(cart, coupon: Coupon):\n    subtotal = sum(item.price for item in cart)\n    total = "
	cartSuffix = "\n    return total\n"
)

// TestCompletionPromptCarriesContext captures the FIM prompt at the upstream: it holds
// the edited file's path header, and before it the best-ranked snippet window (the one
// defining apply_discount), within the context budget; unrelated neighbours stay out.
func TestCompletionPromptCarriesContext(t *testing.T) {
	const budget = 256 // tokens: 896 bytes
	oe := newOpenAIEnv(t, openAIOpts{engine: realtime.EngineConfig{ContextTokenBudget: budget}})
	snips := []map[string]string{neighbour(1), pricingFile, neighbour(2)}
	for i := 3; i < 20; i++ {
		snips = append(snips, neighbour(i))
	}
	r := oe.do("POST", "/api/v1/code/complete", map[string]any{"prefix": cartPrefix, "suffix": cartSuffix,
		"file_path": "shop/cart.py", "context_snippets": snips, "max_tokens": 16}, "X-API-Key", oe.key)
	if r.StatusCode != 200 {
		t.Fatalf("status %d: %s", r.StatusCode, r.body)
	}
	prompt := oe.upstream.last(t)["prompt"].(string)
	head := "<｜fim▁begin｜>"
	header := "# shop/cart.py\n" + cartPrefix + "<｜fim▁hole｜>" + cartSuffix + "<｜fim▁end｜>"
	if !strings.HasPrefix(prompt, head) || !strings.HasSuffix(prompt, header) {
		t.Fatalf("prompt %q\nlacks the FIM tokens or the path header", prompt)
	}
	ctx := strings.TrimSuffix(strings.TrimPrefix(prompt, head), header)
	if len(ctx) > codectx.BudgetBytes(budget) {
		t.Errorf("the context is %d bytes, over the %d-token budget (%d bytes)", len(ctx), budget, codectx.BudgetBytes(budget))
	}
	if !strings.Contains(ctx, "# shop/pricing.py\n") || !strings.Contains(ctx, "def apply_discount(subtotal, coupon):\n    return subtotal * (1 - coupon.rate)\n") {
		t.Errorf("the best-ranked window is missing: %q", ctx)
	}
	if strings.Contains(ctx, "render_widget") {
		t.Errorf("an unrelated neighbour was packed: %q", ctx)
	}

	t.Run("v1 completions extension", func(t *testing.T) {
		r := oe.do("POST", "/v1/completions", map[string]any{"model": "autocomplete", "prompt": "func main() {\n\t", "suffix": "\n}\n",
			"file_path": "cmd/shop/main.go", "max_tokens": 8,
			"context_snippets": []map[string]string{{"path": "shop/cart.go", "text": "func main() { Checkout() }\n"}}}, "X-API-Key", oe.key)
		if r.StatusCode != 200 {
			t.Fatalf("status %d: %s", r.StatusCode, r.body)
		}
		want := "<｜fim▁begin｜>// shop/cart.go\nfunc main() { Checkout() }\n\n// cmd/shop/main.go\nfunc main() {\n\t<｜fim▁hole｜>"
		if p := oe.upstream.last(t)["prompt"].(string); !strings.HasPrefix(p, want) {
			t.Errorf("prompt %q, want it to start %q", p, want)
		}
		r = oe.do("POST", "/v1/completions", map[string]any{"model": "autocomplete", "prompt": "x", "file_path": "a.go"}, "X-API-Key", oe.key)
		if r.StatusCode != 400 || !strings.Contains(string(r.body), "context_snippets") {
			t.Errorf("file_path without a suffix: %d %s", r.StatusCode, r.body)
		}
	})
	t.Run("generation", func(t *testing.T) {
		r := oe.do("POST", "/api/v1/code/generate", map[string]any{"prompt": "apply the coupon to the cart's subtotal", "context": cartPrefix,
			"context_snippets": snips, "max_tokens": 16}, "X-API-Key", oe.key)
		if r.StatusCode != 200 {
			t.Fatalf("status %d: %s", r.StatusCode, r.body)
		}
		msgs := oe.upstream.last(t)["messages"].([]any)
		user := msgs[len(msgs)-1].(map[string]any)["content"].(string)
		if !strings.Contains(user, "Related code from other files:\n\nshop/pricing.py:\n```python\n") ||
			!strings.Contains(user, "def apply_discount(subtotal, coupon):") || strings.Contains(user, "render_widget") {
			t.Errorf("user message %q", user)
		}
	})
}

// TestContextNeverExceedsTheModel: with a model of 600 tokens (max_model_len from the
// simulator's /v1/models) and a budget of 1,024 tokens, the packed context shrinks to
// what the model can take, and the simulator — which answers vLLM's 400 past its
// context length — completes the request.
func TestContextNeverExceedsTheModel(t *testing.T) {
	oe := newOpenAIEnv(t, openAIOpts{sim: sim.Config{MaxModelLen: 600}})
	oe.pool.Probe(context.Background())
	if got := oe.pool.MaxModelLen(); got != 600 {
		t.Fatalf("the pool learned max_model_len %d, want 600", got)
	}
	r := oe.do("POST", "/api/v1/code/complete", map[string]any{"prefix": cartPrefix, "suffix": cartSuffix,
		"file_path": "shop/cart.py", "context_snippets": []map[string]string{pricingFile}, "max_tokens": 32}, "X-API-Key", oe.key)
	if r.StatusCode != 200 {
		t.Fatalf("status %d: %s", r.StatusCode, r.body)
	}
	prompt := oe.upstream.last(t)["prompt"].(string)
	if n := sim.CountTokens(prompt); n+32 > 600 {
		t.Errorf("prompt of %d simulator tokens + 32 exceeds 600", n)
	}
	if !strings.Contains(prompt, "apply_discount(subtotal, coupon)") {
		t.Errorf("no context packed at all: %q", prompt)
	}
}
