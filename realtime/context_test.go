package realtime

import (
	"strings"
	"testing"

	"github.com/hapa-project/hapa/vllm"
)

// windowed is an upstream that knows its context length, as *vllm.Pool does after a
// probe (never streamed from in these tests).
type windowed struct {
	*vllm.Client
	n int
}

func (w windowed) MaxModelLen() int { return w.n }

var _ ContextWindow = (*vllm.Pool)(nil)

// pricing is a neighbouring file whose apply_discount the cursor needs; misc shares
// no identifier with the cursor.
var (
	pricing = ContextSnippet{Path: "shop/pricing.py", Text: strings.Repeat("import os\n", 30) +
		"def apply_discount(subtotal, coupon):\n    return subtotal * (1 - coupon.rate)\n"}
	misc   = ContextSnippet{Path: "util/misc.py", Text: "print('hello world')\n"}
	cursor = Request{Kind: KindCompletion, FilePath: "shop/cart.py", Language: "python",
		Prefix: "def checkout(cart, coupon):\n    subtotal = sum(i.price for i in cart)\n    total = ", Suffix: "\n    return total\n",
		ContextSnippets: []ContextSnippet{misc, pricing}}
)

// TestContextInPrompt: the completion prompt has the path header and the best-ranked
// snippet window in the family's style; chat generations get the snippets as a
// "Related code" section; a negative budget or a full context window leaves them out
// but keeps the header.
func TestContextInPrompt(t *testing.T) {
	t.Run("completion", func(t *testing.T) {
		e := newTestEngine(t, EngineConfig{}, EngineDeps{})
		p := rendered(t, e, cursor).Prompt
		want := "<｜fim▁begin｜># shop/pricing.py\n" + strings.Repeat("import os\n", 10) +
			"def apply_discount(subtotal, coupon):\n    return subtotal * (1 - coupon.rate)\n\n# shop/cart.py\n" + cursor.Prefix
		if !strings.HasPrefix(p, want) || strings.Contains(p, "hello world") {
			t.Errorf("prompt %q\nwant it to start %q", p, want)
		}
	})
	t.Run("qwen file separators", func(t *testing.T) {
		e := newTestEngine(t, EngineConfig{Family: vllm.FamilyQwenCoder}, EngineDeps{})
		p := rendered(t, e, cursor).Prompt
		if !strings.HasPrefix(p, "<|file_sep|>shop/pricing.py\n") || !strings.Contains(p, "<|file_sep|>shop/cart.py\n<|fim_prefix|>def checkout") {
			t.Errorf("prompt %q", p)
		}
	})
	t.Run("generation on the completion task", func(t *testing.T) {
		e := newTestEngine(t, EngineConfig{}, EngineDeps{})
		p := rendered(t, e, Request{Task: TaskCompletion, Prompt: "total = apply_discount(", Context: "coupon = best(cart)",
			ContextSnippets: []ContextSnippet{pricing}}).Prompt
		if !strings.HasPrefix(p, "<｜fim▁begin｜># shop/pricing.py\n") || !strings.Contains(p, "\n\ncoupon = best(cart)\ntotal = apply_discount(<｜fim▁hole｜>") {
			t.Errorf("prompt %q", p)
		}
	})
	t.Run("chat generation", func(t *testing.T) {
		e := newTestEngine(t, EngineConfig{}, EngineDeps{})
		up := rendered(t, e, Request{Prompt: "apply the coupon to the subtotal", Context: "subtotal = 10",
			ContextSnippets: []ContextSnippet{misc, pricing}})
		user := up.Messages[1].Content
		want := "subtotal = 10\n```\n\nRelated code from other files:\n\nshop/pricing.py:\n```python\n"
		if !strings.Contains(user, want) || !strings.Contains(user, "def apply_discount(subtotal, coupon):") || strings.Contains(user, "hello world") {
			t.Errorf("user message %q", user)
		}
	})
	t.Run("no budget", func(t *testing.T) {
		e := newTestEngine(t, EngineConfig{ContextTokenBudget: -1}, EngineDeps{})
		if p := rendered(t, e, cursor).Prompt; p != "<｜fim▁begin｜># shop/cart.py\n"+cursor.Prefix+"<｜fim▁hole｜>"+cursor.Suffix+"<｜fim▁end｜>" {
			t.Errorf("prompt %q", p)
		}
	})
	t.Run("context length", func(t *testing.T) {
		// Without context the prompt is ~200 bytes; 420 tokens minus max_tokens 64 leave
		// less than the pricing window needs at one token per byte.
		small := newTestEngine(t, EngineConfig{}, EngineDeps{Upstream: windowed{n: 420}})
		req := cursor
		req.MaxTokens = 64
		p := rendered(t, small, req).Prompt
		if strings.Contains(p, "apply_discount") || !strings.Contains(p, "# shop/cart.py\n") {
			t.Errorf("a 420-token model got context: %q", p)
		}
		if len(p)+64 > 420 {
			t.Errorf("%d bytes + 64 max_tokens exceed max_model_len 420", len(p))
		}
		roomy := newTestEngine(t, EngineConfig{}, EngineDeps{Upstream: windowed{n: 16384}})
		if p := rendered(t, roomy, req).Prompt; !strings.Contains(p, "apply_discount") {
			t.Errorf("a 16384-token model got no context: %q", p)
		}
	})
}
