package ws

import (
	"strings"
	"sync"
	"testing"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/realtime/ws/wsclient"
)

// TestContextSnippetsOnTheSocket: completion.create and generation.create carry
// file_path and context_snippets to the engine; a Go file completes (the language is
// detected from its path); too many snippets end the stream with E4010.
func TestContextSnippetsOnTheSocket(t *testing.T) {
	var mu sync.Mutex
	var seen []realtime.Request
	w := newWSHarness(t, wsOpt{fake: func(req realtime.Request) eventSource {
		mu.Lock()
		seen = append(seen, req)
		mu.Unlock()
		return nil // the real engine serves it
	}})
	ctx := testCtx(t)
	c := w.dial(t, "editor")
	snips := []wsclient.Snippet{{Path: "shop/cart.go", Text: "func (c *Cart) Total() float64 { return c.sum }\n"}, {Text: "x := 1\n"}}
	st, err := c.Complete(ctx, wsclient.CompletionCreate{Prefix: "func checkout(c *Cart) float64 {\n\treturn ", FilePath: "cmd/shop/main.go",
		ContextSnippets: snips, MaxTokens: 8})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := st.Collect(ctx); err != nil || r.Done == nil {
		t.Fatalf("completion of a Go file: %v %+v", err, r.Err)
	}
	g, err := c.Generate(ctx, wsclient.GenerationCreate{Prompt: "sum the cart", FilePath: "shop/cart.py", ContextSnippets: snips[:1], MaxTokens: 8})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := g.Collect(ctx); err != nil || r.Done == nil {
		t.Fatalf("generation: %v %+v", err, r.Err)
	}
	mu.Lock()
	if len(seen) != 2 || seen[0].FilePath != "cmd/shop/main.go" || len(seen[0].ContextSnippets) != 2 ||
		seen[0].ContextSnippets[0] != (realtime.ContextSnippet{Path: "shop/cart.go", Text: snips[0].Text}) ||
		seen[1].FilePath != "shop/cart.py" || len(seen[1].ContextSnippets) != 1 {
		t.Errorf("engine requests %+v", seen)
	}
	mu.Unlock()

	many := make([]wsclient.Snippet, 33)
	for i := range many {
		many[i] = wsclient.Snippet{Text: strings.Repeat("y", 10)}
	}
	st, _ = c.Complete(ctx, wsclient.CompletionCreate{Prefix: "x = ", ContextSnippets: many})
	if r, err := st.Collect(ctx); err != nil || r.Err == nil || r.Err.Code != "E4010" || r.Started != nil {
		t.Fatalf("33 snippets: %v %+v", err, r)
	}
}
