package realtime

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/hapa-project/hapa/vllm"
	"github.com/hapa-project/hapa/vllm/sim"
)

// Pulled flights (a lone reader stepping the upstream in its own goroutine): an empty
// chunk does not stall the reader, and a reader that is away does not trip the idle
// limit.

// rawUpstream is a vLLM stand-in that writes the given SSE pieces, each after its
// release channel (nil: at once) is closed.
func rawUpstream(t *testing.T, pieces []string, release []chan struct{}) func(Upstream) Upstream {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/event-stream")
		w.WriteHeader(200)
		rc := http.NewResponseController(w)
		_ = rc.Flush()
		for i, p := range pieces {
			if release[i] != nil {
				select {
				case <-release[i]:
				case <-r.Context().Done():
					return
				}
			}
			_, _ = w.Write([]byte(p))
			_ = rc.Flush()
		}
	}))
	t.Cleanup(ts.Close)
	c, err := vllm.NewClient(vllm.ClientConfig{BaseURL: ts.URL, HTTPClient: ts.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return func(Upstream) Upstream { return c }
}

func chunk(text, finish string) string {
	f := "null"
	if finish != "" {
		f = `"` + finish + `"`
	}
	return `data: {"choices":[{"index":0,"text":"` + text + `","finish_reason":` + f + "}]}\n\n"
}

// A pulled reader merges the deltas already buffered; a chunk it would skip (no text,
// finish or usage, which vLLM sends) is no delta: the reader must get the text in
// hand at once, not after the next chunk arrives.
func TestPullDoesNotWaitBehindAnEmptyChunk(t *testing.T) {
	later := make(chan struct{})
	defer close(later)
	wrap := rawUpstream(t, []string{chunk("a", "") + chunk("", ""), chunk("b", "stop") + "data: [DONE]\n\n"},
		[]chan struct{}{nil, later})
	h := newHarness(t, harnessOpt{noCache: true, wrap: wrap})
	ctx := context.Background()
	s, err := h.e.Start(ctx, oneShotReq("write hello world"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	got := make(chan Event, 1)
	go func() {
		ev, err := s.Next(ctx)
		if err != nil {
			t.Errorf("Next: %v", err)
		}
		got <- ev
	}()
	select {
	case ev := <-got:
		if ev.Text != "a" {
			t.Fatalf("first event %+v, want the text a", ev)
		}
	case <-time.After(3 * time.Second):
		t.Fatal("the text read was held back until the next upstream chunk")
	}
	later <- struct{}{}
	text, end := readAll(t, ctx, s)
	if text != "b" || end.Done == nil || end.Done.FinishReason != "stop" {
		t.Fatalf("rest %q %+v", text, end)
	}
}

// A pulled reader that is away (its write to a slow client blocks) must not leave the
// upstream unread for so long that the client's idle limit, meant for a silent model,
// cuts a healthy generation: the flight goes to a goroutine of its own meanwhile.
func TestPulledReaderAwayDoesNotTripTheIdleLimit(t *testing.T) {
	h := newHarness(t, harnessOpt{noCache: true, sim: sim.Config{Seed: 9, ITL: 5 * time.Millisecond},
		client: vllm.ClientConfig{IdleTimeout: pullAway + 500*time.Millisecond}})
	req := oneShotReq("write a function that reverses a string")
	req.MaxTokens = 60
	ctx := context.Background()
	s := startPulled(t, h, req)
	time.Sleep(pullAway + time.Second) // the reader is elsewhere
	_, end := readAll(t, ctx, s)
	if end.Done == nil || end.Done.FinishReason == "cancelled" {
		t.Fatalf("after the reader's absence: %+v, want the generation's Done", end)
	}
	if got := h.incidents.list(); len(got) != 0 {
		t.Fatalf("incidents %v recorded for a healthy generation", got)
	}
}
