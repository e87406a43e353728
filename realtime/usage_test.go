package realtime

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/vllm"
	"github.com/hapa-project/hapa/vllm/sim"
)

// usageChunk is a completion chunk carrying vLLM's running usage
// (stream_options.continuous_usage_stats).
func usageChunk(text string, prompt, completion int) string {
	return fmt.Sprintf(`data: {"choices":[{"index":0,"text":%q,"finish_reason":null}],"usage":{"prompt_tokens":%d,"completion_tokens":%d,"total_tokens":%d}}`+"\n\n",
		text, prompt, completion, prompt+completion)
}

// released returns n channels and a func that releases the next one.
func released(n int) ([]chan struct{}, func()) {
	chs := make([]chan struct{}, n)
	for i := range chs {
		chs[i] = make(chan struct{})
	}
	next := 0
	return chs, func() { close(chs[next]); next++ }
}

// rowOf waits for the request-log row of request id.
func rowOf(t *testing.T, h *harness, id string) store.RequestLogRow {
	t.Helper()
	var row store.RequestLogRow
	waitEngine(t, "the row of "+id, func() bool {
		for _, r := range h.logs.snapshot() {
			if r.RequestID == id {
				row = r
				return true
			}
		}
		return false
	})
	return row
}

// A stream cancelled after three tokens is charged the prompt and those three tokens,
// in its Done, its row and as upstream tokens — not 0 (the bypass of token quotas), and
// not the whole generation either.
func TestCancelledStreamIsChargedWhatItReceived(t *testing.T) {
	for _, tc := range []struct {
		name       string
		chunk      func(i int) string
		wantPrompt int
	}{
		{"vLLM counts (continuous usage)", func(i int) string { return usageChunk(fmt.Sprintf("t%d ", i), 57, i) }, 57},
		{"counted at the relay", func(i int) string { return chunk(fmt.Sprintf("t%d ", i), "") }, -1},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var pieces []string
			for i := 1; i <= 10; i++ {
				pieces = append(pieces, tc.chunk(i))
			}
			rel, next := released(len(pieces))
			h := newHarness(t, harnessOpt{noCache: true, wrap: rawUpstream(t, pieces, rel)})
			ctx, cancel := context.WithCancel(context.Background())
			req := oneShotReq("explain the charge of a cancelled stream")
			req.RequestID = "cancel-1"
			s, err := h.e.Start(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			var got string
			for range 3 {
				next()
				ev, err := s.Next(ctx)
				if err != nil || ev.Text == "" {
					t.Fatalf("Next: %+v %v", ev, err)
				}
				got += ev.Text
			}
			cancel() // the client leaves (stream.cancel, a disconnect)
			ev, err := s.Next(ctx)
			if err != nil || ev.Done == nil || ev.Done.FinishReason != "cancelled" {
				t.Fatalf("terminal: %+v %v", ev, err)
			}
			s.Close()
			want := tc.wantPrompt
			if want < 0 {
				r := req
				if err := h.e.validate(&r); err != nil {
					t.Fatal(err)
				}
				want = promptEstimate(h.e.render(context.Background(), r).upstream)
			}
			if u := ev.Done.Usage; got != "t1 t2 t3 " || u.CompletionTokens != 3 || u.PromptTokens != want || u.TotalTokens != want+3 {
				t.Fatalf("delivered %q, Done.Usage %+v; want 3 completion and %d prompt tokens", got, u, want)
			}
			row := rowOf(t, h, "cancel-1")
			if row.Status != statusCancelled || row.TokensIn != want || row.TokensOut != 3 || row.UpstreamIn != want || row.UpstreamOut != 3 {
				t.Fatalf("row %+v", row)
			}
			for range 7 {
				next() // let the stand-in finish
			}
		})
	}
}

// Coalesced joiners and cache hits are served tokens but charged no model tokens; the
// flight's upstream tokens are charged once. When the launcher leaves, the oldest
// joiner is charged from then on: the two shares add up to what vLLM produced.
func TestUpstreamTokensAreChargedOnce(t *testing.T) {
	t.Run("joiner and cache hit", func(t *testing.T) {
		h := newHarness(t, harnessOpt{sim: sim.Config{ITL: time.Millisecond}})
		ctx := context.Background()
		req := genReq("write a function that sums a list")
		req.RequestID = "launcher"
		a, err := h.e.Start(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		req.RequestID = "joiner"
		b, err := h.e.Start(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		if !b.Info().Coalesced {
			t.Fatal("the second request did not join")
		}
		_, ea := drain(t, a)
		_, eb := drain(t, b)
		full := ea.Done.Usage
		if full.CompletionTokens == 0 || eb.Done.Usage != full {
			t.Fatalf("launcher got %+v, joiner %+v", full, eb.Done.Usage)
		}
		req.RequestID = "hit"
		c, err := h.e.Start(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		_, ec := drain(t, c)
		if !c.Info().Cached || ec.Done.Usage != full {
			t.Fatalf("cache hit %+v %+v", c.Info(), ec.Done.Usage)
		}
		for id, upstream := range map[string]int{"launcher": full.TotalTokens, "joiner": 0, "hit": 0} {
			row := rowOf(t, h, id)
			if row.TokensIn+row.TokensOut != full.TotalTokens || row.UpstreamIn+row.UpstreamOut != upstream {
				t.Errorf("%s: row %+v, want %d served and %d upstream tokens", id, row, full.TotalTokens, upstream)
			}
		}
	})
	t.Run("the launcher leaves", func(t *testing.T) {
		var pieces []string
		for i := 1; i <= 8; i++ {
			pieces = append(pieces, usageChunk("x", 20, i))
		}
		pieces[7] = strings.Replace(pieces[7], `"finish_reason":null`, `"finish_reason":"length"`, 1)
		pieces = append(pieces, `data: {"choices":[],"usage":{"prompt_tokens":20,"completion_tokens":8,"total_tokens":28}}`+"\n\ndata: [DONE]\n\n")
		rel, next := released(len(pieces))
		h := newHarness(t, harnessOpt{noCache: true, wrap: rawUpstream(t, pieces, rel)})
		req := genReq("shared work")
		req.RequestID = "a"
		actx, leave := context.WithCancel(context.Background())
		a, err := h.e.Start(actx, req)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		req.RequestID = "b"
		b, err := h.e.Start(ctx, req)
		if err != nil || !b.Info().Coalesced {
			t.Fatalf("join: %v %+v", err, b.Info())
		}
		for range 3 {
			next()
			if _, err := b.Next(ctx); err != nil {
				t.Fatal(err)
			}
		}
		waitEngine(t, "three tokens read", func() bool { return strings.Count(flightText(a), "x") == 3 })
		if ev, err := a.Next(ctx); err != nil || ev.Text != "xxx" { // the launcher's client reads them too
			t.Fatalf("launcher's read: %+v %v", ev, err)
		}
		leave()
		s, _ := a.Next(ctx)
		if s.Done == nil || s.Done.FinishReason != "cancelled" {
			t.Fatalf("launcher's terminal: %+v", s)
		}
		for range len(pieces) - 3 {
			next()
		}
		_, eb := drain(t, b)
		if eb.Done == nil || eb.Done.Usage.TotalTokens != 28 {
			t.Fatalf("joiner's terminal %+v (err %+v)", eb.Done, eb.Err)
		}
		ra, rb := rowOf(t, h, "a"), rowOf(t, h, "b")
		if ra.UpstreamIn != 20 || ra.UpstreamOut != 3 || rb.UpstreamIn != 0 || rb.UpstreamOut != 5 {
			t.Fatalf("upstream shares: launcher %d+%d, joiner %d+%d; want 20+3 and 0+5", ra.UpstreamIn, ra.UpstreamOut, rb.UpstreamIn, rb.UpstreamOut)
		}
		if ra.TokensOut != 3 || rb.TokensOut != 8 {
			t.Fatalf("delivered: launcher %d, joiner %d", ra.TokensOut, rb.TokensOut)
		}
	})
}

// flightText returns the text a stream's flight holds (for waiting on progress).
func flightText(s *Stream) string {
	s.src.mu.Lock()
	defer s.src.mu.Unlock()
	return string(s.src.buf)
}

// A cache replay cancelled half way is served about half of the entry's tokens.
func TestReplayDeliveredIsProportional(t *testing.T) {
	f := &flight{replay: true, text: strings.Repeat("a", 100),
		end: &flightEnd{usage: vllm.Usage{PromptTokens: 10, CompletionTokens: 40, TotalTokens: 50}}}
	for off, want := range map[int]int{0: 0, 50: 20, 51: 21, 100: 40} {
		if u := f.deliveredAt(off); u.CompletionTokens != want || u.PromptTokens != 10 || u.TotalTokens != 10+want {
			t.Errorf("deliveredAt(%d) = %+v, want %d completion tokens", off, u, want)
		}
	}
}

// RevokeKey ends every open stream of the key at once with E4007 and the usage it
// received, and cancels its upstream request; other keys' streams go on.
func TestRevokeKeyEndsItsStreams(t *testing.T) {
	h := newHarness(t, harnessOpt{noCache: true, sim: sim.Config{ITL: 20 * time.Millisecond}})
	ctx := context.Background()
	req := oneShotReq("a long essay")
	req.MaxTokens = 500
	req.Caller = Caller{KeyID: 5}
	s, err := h.e.Start(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	other := req
	other.Caller = Caller{KeyID: 6}
	o, err := h.e.Start(ctx, other)
	if err != nil {
		t.Fatal(err)
	}
	defer o.Close()
	if ev, err := s.Next(ctx); err != nil || ev.Text == "" {
		t.Fatalf("first event %+v %v", ev, err)
	}
	if _, err := o.Next(ctx); err != nil {
		t.Fatal(err)
	}
	if n := h.e.RevokeKey(5, nil); n != 1 {
		t.Fatalf("RevokeKey ended %d streams, want 1", n)
	}
	ev, err := s.Next(ctx)
	if err != nil || ev.Err == nil || ev.Err.Code != CodeKeyRevoked || ev.Usage == nil || ev.Usage.CompletionTokens == 0 {
		t.Fatalf("after revocation: %+v %v", ev, err)
	}
	s.Close()
	actx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := h.sim.WaitAborted(actx, 1); err != nil {
		t.Fatalf("upstream not aborted: %v", err)
	}
	if ev, err := o.Next(ctx); err != nil || ev.Err != nil {
		t.Fatalf("another key's stream: %+v %v", ev, err)
	}
	if keys := h.e.LiveKeys(); len(keys) != 1 || keys[0] != 6 {
		t.Fatalf("LiveKeys = %v, want [6]", keys)
	}
}
