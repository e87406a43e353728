package ws

import (
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime/limits"
	"github.com/hapa-project/hapa/realtime/ws/wsclient"
)

// TestLimiterSharedByHubAndREST: WebSocket creates and REST checks of one key draw
// from the same bucket; a refusal is a retryable stream.error and the socket stays.
func TestLimiterSharedByHubAndREST(t *testing.T) {
	l, err := limits.NewLimiter(limits.Config{Rules: map[string]limits.Rate{limits.GroupCompletion: {Limit: 3, Period: time.Minute}}}, limits.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	w := newWSHarness(t, wsOpt{admit: l})
	c := w.dial(t, "key-a")
	caller := w.auth.add("key-a")
	ctx := testCtx(t)
	for i := 0; i < 2; i++ {
		s, err := c.Complete(ctx, wsclient.CompletionCreate{Prefix: "def f(", MaxTokens: 2})
		if err != nil {
			t.Fatal(err)
		}
		if r, err := s.Collect(ctx); err != nil || r.Done == nil {
			t.Fatalf("completion %d: %v %+v", i, err, r.Err)
		}
	}
	if d := l.Check(ctx, caller, "", limits.GroupCompletion); d.Err != nil || d.Remaining != 0 {
		t.Fatalf("REST check after two WebSocket completions: %+v", d)
	}
	s, err := c.Complete(ctx, wsclient.CompletionCreate{Prefix: "def g("})
	if err != nil {
		t.Fatal(err)
	}
	r, err := s.Collect(ctx)
	if err != nil || r.Err == nil || r.Err.Code != "E4004" || r.Err.RetryAfterMS <= 0 || !r.Err.Retryable {
		t.Fatalf("fourth completion: %v %+v, want E4004 with retry_after_ms", err, r.Err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("socket closed after the refusal: %v", err)
	}
}
