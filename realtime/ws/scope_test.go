package ws

import (
	"testing"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/realtime/ws/wsclient"
	"github.com/hapa-project/hapa/store"
)

// TestStreamNeedsItsScope: a key without code_generation cannot run a generation over
// the socket (the REST routes ask the same scopes); the socket stays open and a
// completion still works.
func TestStreamNeedsItsScope(t *testing.T) {
	w := newWSHarness(t, wsOpt{})
	w.auth.add("completion-only", store.ScopeCodeCompletion)
	cl := w.dial(t, "completion-only")
	ctx := testCtx(t)

	st, err := cl.Generate(ctx, wsclient.GenerationCreate{Prompt: "write a sort"})
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.Collect(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if r.Err == nil || r.Err.Code != string(realtime.CodeForbidden) {
		t.Fatalf("generation with a completion-only key: %+v", r)
	}

	st, err = cl.Complete(ctx, wsclient.CompletionCreate{Prefix: "def add(a, b):\n    "})
	if err != nil {
		t.Fatal(err)
	}
	if r, err = st.Collect(ctx); err != nil || r.Done == nil {
		t.Fatalf("completion after the refusal: %v %+v", err, r)
	}
}
