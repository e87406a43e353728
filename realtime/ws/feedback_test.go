package ws

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime/ws/wsclient"
)

// TestCompletionFeedbackOnTheSocket: a completion stream names its completion in
// stream.started and stream.done (generations do not); completion.feedback is taken
// silently and stored, and a report on someone else's completion or an unknown event
// is answered with an error frame echoing its event_id — the socket stays open.
func TestCompletionFeedbackOnTheSocket(t *testing.T) {
	w := newWSHarness(t, wsOpt{})
	ctx := testCtx(t)
	c := w.dial(t, "editor")
	st, err := c.Complete(ctx, wsclient.CompletionCreate{Prefix: "def add(a, b):\n    ", Language: "python", MaxTokens: 8})
	if err != nil {
		t.Fatal(err)
	}
	res, err := st.Collect(ctx)
	if err != nil || res.Done == nil {
		t.Fatalf("completion: %+v, %v", res, err)
	}
	id := res.Started.CompletionID
	if !strings.HasPrefix(id, "cmpl-") || res.Done.CompletionID != id {
		t.Fatalf("stream.started completion_id %q, stream.done %q", id, res.Done.CompletionID)
	}
	g, err := c.Generate(ctx, wsclient.GenerationCreate{Prompt: "reverse a string", MaxTokens: 8})
	if err != nil {
		t.Fatal(err)
	}
	if gr, _ := g.Collect(ctx); gr.Started == nil || gr.Started.CompletionID != "" {
		t.Fatalf("a generation named a completion: %+v", gr.Started)
	}

	two := 2
	for _, f := range []wsclient.CompletionFeedback{{CompletionID: id, Event: "shown"},
		{CompletionID: id, Event: "accepted", AcceptedChars: &two}} {
		if _, err := c.Feedback(ctx, f); err != nil {
			t.Fatal(err)
		}
	}
	other := w.dial(t, "someone else")
	eid, _ := other.Feedback(ctx, wsclient.CompletionFeedback{CompletionID: id, Event: "dismissed"})
	if ev := nextEvent(t, other); ev.Type != "error" || ev.EventID != eid || ev.Error == nil || ev.Error.Code != "E4011" {
		t.Fatalf("someone else's report: %+v", ev)
	}
	eid, _ = c.Feedback(ctx, wsclient.CompletionFeedback{CompletionID: id, Event: "liked"})
	if ev := nextEvent(t, c); ev.Type != "error" || ev.EventID != eid || ev.Error.Code != "E4001" {
		t.Fatalf("an unknown event: %+v", ev)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("the socket did not survive a refused report: %v", err)
	}

	deadline := time.Now().Add(5 * time.Second)
	for {
		evs, err := w.auth.db.CompletionEvents().Of(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if len(evs) == 2 {
			if evs[0].Event != "shown" || evs[1].Event != "accepted" || *evs[1].AcceptedChars != 2 || evs[1].Language != "python" {
				t.Fatalf("stored %+v", evs)
			}
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d events stored, want 2", len(evs))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// nextEvent is the next frame on c's Events() that no stream or call took.
func nextEvent(t *testing.T, c *wsclient.Client) wsclient.Event {
	t.Helper()
	select {
	case ev := <-c.Events():
		return ev
	case <-time.After(5 * time.Second):
		t.Fatal("no event")
	}
	return wsclient.Event{}
}
