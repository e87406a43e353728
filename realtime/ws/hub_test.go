package ws

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/realtime/ws/wsclient"
	"github.com/hapa-project/hapa/vllm/sim"
)

func TestStreamLimitPerSocket(t *testing.T) {
	w := newWSHarness(t, wsOpt{cfg: Config{MaxStreams: 2}, sim: sim.Config{ITL: 20 * time.Millisecond}})
	c := w.dial(t, "key-a")
	ctx := testCtx(t)
	a, _ := c.Generate(ctx, wsclient.GenerationCreate{ID: "a", Prompt: "long essay one", MaxTokens: 300, Temperature: hot(0.9)})
	b, _ := c.Generate(ctx, wsclient.GenerationCreate{ID: "b", Prompt: "long essay two", MaxTokens: 300, Temperature: hot(0.9)})
	over, _ := c.Complete(ctx, wsclient.CompletionCreate{ID: "c", Prefix: "x = "})
	r, err := over.Collect(ctx)
	if err != nil || r.Err == nil || r.Err.Code != "E4014" || !r.Err.Retryable {
		t.Fatalf("third stream: %v %+v", err, r.Err)
	}
	_ = c.Cancel(ctx, "a") // a cancelled stream frees its slot at once
	d, _ := c.Complete(ctx, wsclient.CompletionCreate{ID: "d", Prefix: "y = ", MaxTokens: 4})
	if r, err := d.Collect(ctx); err != nil || r.Done == nil {
		t.Fatalf("after cancel: %v %+v", err, r.Err)
	}
	for _, s := range []*wsclient.Stream{a, b} {
		_ = c.Cancel(ctx, s.ID)
		if ev := terminalOf(t, ctx, s); ev.Type != "stream.done" {
			t.Fatalf("%s: %+v", s.ID, ev)
		}
	}
}

func TestConnectionsPerKey(t *testing.T) {
	w := newWSHarness(t, wsOpt{cfg: Config{MaxConnsPerKey: 2}})
	first := w.dial(t, "key-a")
	w.dial(t, "key-a")
	_, err := wsclient.Dial(testCtx(t), w.url, w.auth.key("key-a"), &wsclient.Options{HTTPClient: w.srv.Client()})
	if got := websocket.CloseStatus(err); got != CloseTooManyConns {
		t.Fatalf("third socket: close %d (%v), want 4029", got, err)
	}
	w.dial(t, "key-b") // another key is not affected
	_ = first.Close()
	waitUntil(t, "slot freed", func() bool { return w.hub.Stats().Sessions == 2 })
	w.dial(t, "key-a")
}

func TestAdmissionRefusalsKeepTheSocket(t *testing.T) {
	rl := realtime.NewError(realtime.CodeRateLimited, "")
	rl.RetryAfter = 1500 * time.Millisecond
	admit := &fakeAdmit{refuse: map[string]*realtime.Error{"generation": rl, "completion": realtime.NewError(realtime.CodeQuotaExceeded, "")}}
	w := newWSHarness(t, wsOpt{admit: admit})
	c := w.dial(t, "key-a")
	ctx := testCtx(t)
	g, _ := c.Generate(ctx, wsclient.GenerationCreate{Prompt: "x"})
	r, err := g.Collect(ctx)
	if err != nil || r.Err == nil || r.Err.Code != "E4004" || r.Err.RetryAfterMS != 1500 || !r.Err.Retryable {
		t.Fatalf("rate limited: %v %+v", err, r.Err)
	}
	cc, _ := c.Complete(ctx, wsclient.CompletionCreate{Prefix: "x"})
	if r, err := cc.Collect(ctx); err != nil || r.Err == nil || r.Err.Code != "E4016" {
		t.Fatalf("quota: %v %+v", err, r.Err)
	}
	if err := c.Ping(ctx); err != nil {
		t.Fatalf("socket closed after refusals: %v", err)
	}
	admit.mu.Lock()
	admit.refuse = nil
	admit.mu.Unlock()
	g, _ = c.Generate(ctx, wsclient.GenerationCreate{Prompt: "now allowed", MaxTokens: 4})
	if r, err := g.Collect(ctx); err != nil || r.Done == nil {
		t.Fatalf("after the window: %v %+v", err, r.Err)
	}
	if admit.calls.Load() != 3 {
		t.Errorf("Admit called %d times, want 3", admit.calls.Load())
	}
}

func TestFrameRateLimit(t *testing.T) {
	w := newWSHarness(t, wsOpt{cfg: Config{FrameRate: 1, FrameBurst: 5}})
	c := w.dial(t, "key-a")
	ctx := testCtx(t)
	for range 6 {
		_ = c.Send(ctx, map[string]string{"type": "ping"})
	}
	pongs, limited := 0, 0
	for pongs+limited < 6 {
		select {
		case ev := <-c.Events():
			switch {
			case ev.Type == "pong":
				pongs++
			case ev.Type == "error" && ev.Error.Code == "E4004" && ev.Error.RetryAfterMS > 0:
				limited++
			default:
				t.Fatalf("unexpected %+v", ev)
			}
		case <-ctx.Done():
			t.Fatalf("pongs %d, limited %d", pongs, limited)
		}
	}
	if pongs != 5 || limited != 1 {
		t.Fatalf("pongs %d, limited %d", pongs, limited)
	}
	g, _ := c.Generate(ctx, wsclient.GenerationCreate{Prompt: "x"}) // over the rate: refused, not lost
	if r, err := g.Collect(ctx); err != nil || r.Err == nil || r.Err.Code != "E4004" || r.Err.RetryAfterMS <= 0 {
		t.Fatalf("create over the frame rate: %v %+v", err, r.Err)
	}
	for range 10 { // a sustained flood
		_ = c.Send(ctx, map[string]string{"type": "ping"})
	}
	<-c.Done()
	if got := c.CloseStatus(); got != int(websocket.StatusPolicyViolation) {
		t.Fatalf("flood: close %d (%v), want 1008", got, c.Err())
	}
}

// TestCancelOverTheFrameRate: a stream.cancel over the frame rate is honoured (dropped,
// its stream would run on and spend tokens), and the E4004 notice it did not get goes
// to the next rejected frame.
func TestCancelOverTheFrameRate(t *testing.T) {
	w := newWSHarness(t, wsOpt{cfg: Config{FrameRate: 0.1, FrameBurst: 2}, sim: sim.Config{ITL: 20 * time.Millisecond}})
	c := w.dial(t, "key-a")
	ctx := testCtx(t)
	s, _ := c.Generate(ctx, wsclient.GenerationCreate{Prompt: "a long answer please", MaxTokens: 300, Temperature: hot(0.9)})
	_ = c.Send(ctx, map[string]string{"type": "ping"}) // the bucket's second and last frame
	for ev, err := s.Next(ctx); ev.Type != "stream.delta"; ev, err = s.Next(ctx) {
		if err != nil {
			t.Fatal(err)
		}
	}
	if err := c.Cancel(ctx, s.ID); err != nil { // over the rate
		t.Fatal(err)
	}
	if ev := terminalOf(t, ctx, s); ev.Type != "stream.done" || ev.FinishReason != "cancelled" {
		t.Fatalf("cancel over the frame rate: %+v, want stream.done cancelled", ev)
	}
	_ = c.Send(ctx, map[string]string{"type": "ping"}) // over the rate, and dropped
	for {
		select {
		case ev := <-c.Events():
			if ev.Type == "pong" {
				continue // the first ping's
			}
			if ev.Type != "error" || ev.Error == nil || ev.Error.Code != "E4004" {
				t.Fatalf("dropped ping: %+v, want error E4004", ev)
			}
			return
		case <-ctx.Done():
			t.Fatal("no E4004 for the ping dropped after the honoured cancel")
		}
	}
}

func TestRevocationClosesLiveSockets(t *testing.T) {
	t.Run("CloseKey", func(t *testing.T) {
		w := newWSHarness(t, wsOpt{sim: sim.Config{ITL: 20 * time.Millisecond}})
		c := w.dial(t, "key-a")
		other := w.dial(t, "key-b")
		ctx := testCtx(t)
		s, _ := c.Generate(ctx, wsclient.GenerationCreate{Prompt: "a long answer please", MaxTokens: 300, Temperature: hot(0.9)})
		for ev, err := s.Next(ctx); ev.Type != "stream.delta"; ev, err = s.Next(ctx) {
			if err != nil {
				t.Fatal(err)
			}
		}
		if n := w.hub.CloseKey(w.auth.add("key-a").KeyID, realtime.CodeKeyRevoked, ""); n != 1 {
			t.Fatalf("CloseKey closed %d sockets", n)
		}
		<-c.Done()
		if got := c.CloseStatus(); got != CloseAuthRevoked {
			t.Fatalf("close %d (%v), want 4001", got, c.Err())
		}
		if err := w.sim.WaitAborted(ctx, 1); err != nil {
			t.Fatal("the revoked socket's stream still runs upstream")
		}
		if err := other.Ping(ctx); err != nil {
			t.Fatalf("another key's socket: %v", err)
		}
	})
	t.Run("CloseKey during a busy stream", func(t *testing.T) {
		src := &fakeSource{piece: "tok ", endless: true}
		w := newWSHarness(t, wsOpt{fake: func(realtime.Request) eventSource { return src }})
		c := w.dial(t, "key-a")
		ctx := testCtx(t)
		s, _ := c.Generate(ctx, wsclient.GenerationCreate{Prompt: "x"})
		for ev, err := s.Next(ctx); ev.Type != "stream.delta"; ev, err = s.Next(ctx) {
			if err != nil {
				t.Fatal(err)
			}
		}
		w.hub.CloseKey(w.auth.add("key-a").KeyID, realtime.CodeKeyRevoked, "")
		<-c.Done()
		if got := c.CloseStatus(); got != CloseAuthRevoked {
			t.Fatalf("close %d (%v), want 4001", got, c.Err())
		}
		waitUntil(t, "stream left the engine", func() bool { return src.closed.Load() == 1 })
	})
	t.Run("Revalidate", func(t *testing.T) {
		w := newWSHarness(t, wsOpt{cfg: Config{RevalidateInterval: 20 * time.Millisecond}})
		c := w.dial(t, "key-a")
		if err := c.Ping(testCtx(t)); err != nil {
			t.Fatal(err)
		}
		w.auth.revoke(w.auth.add("key-a").KeyID)
		<-c.Done()
		if got := c.CloseStatus(); got != CloseAuthRevoked {
			t.Fatalf("close %d (%v), want 4001", got, c.Err())
		}
	})
}

func TestShutdown(t *testing.T) {
	t.Run("streams finish, then 1012", func(t *testing.T) {
		w := newWSHarness(t, wsOpt{cfg: Config{ReconnectAfter: 1500 * time.Millisecond}, sim: sim.Config{ITL: 3 * time.Millisecond}})
		c := w.dial(t, "key-a")
		ctx := testCtx(t)
		s, _ := c.Generate(ctx, wsclient.GenerationCreate{Prompt: "write a small cli tool", MaxTokens: 60, Temperature: hot(0.9)})
		if _, err := s.Next(ctx); err != nil {
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- w.hub.Shutdown(ctx) }()
		ev := <-c.Events()
		if ev.Type != "session.closing" || ev.Reason != "server restart" || ev.ReconnectAfterMS != 1500 {
			t.Fatalf("got %+v, want session.closing", ev)
		}
		late, _ := c.Complete(ctx, wsclient.CompletionCreate{Prefix: "x"})
		if r, err := late.Collect(ctx); err != nil || r.Err == nil || r.Err.Code != "E5005" || !r.Err.Retryable {
			t.Fatalf("create while draining: %v %+v", err, r.Err)
		}
		if ev := terminalOf(t, ctx, s); ev.Type != "stream.done" || ev.FinishReason == "cancelled" {
			t.Fatalf("running stream: %+v", ev)
		}
		<-c.Done()
		if got := c.CloseStatus(); got != int(websocket.StatusServiceRestart) {
			t.Fatalf("close %d (%v), want 1012", got, c.Err())
		}
		if err := <-done; err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		_, err := wsclient.Dial(ctx, w.url, w.auth.key("key-a"), &wsclient.Options{HTTPClient: w.srv.Client()})
		var de *wsclient.DialError
		if !errors.As(err, &de) || de.Status != 503 {
			t.Fatalf("dial after shutdown: %v", err)
		}
	})
	t.Run("deadline cuts long streams", func(t *testing.T) {
		w := newWSHarness(t, wsOpt{sim: sim.Config{ITL: 30 * time.Millisecond}})
		c := w.dial(t, "key-a")
		ctx := testCtx(t)
		s, _ := c.Generate(ctx, wsclient.GenerationCreate{Prompt: "an endless essay", MaxTokens: 1000, Temperature: hot(0.9)})
		for ev, err := s.Next(ctx); ev.Type != "stream.delta"; ev, err = s.Next(ctx) {
			if err != nil {
				t.Fatal(err)
			}
		}
		sctx, cancel := context.WithTimeout(ctx, 100*time.Millisecond)
		defer cancel()
		if err := w.hub.Shutdown(sctx); err != nil {
			t.Fatalf("Shutdown: %v", err)
		}
		<-c.Done()
		if got := c.CloseStatus(); got != int(websocket.StatusServiceRestart) {
			t.Fatalf("close %d, want 1012", got)
		}
		if err := w.sim.WaitAborted(ctx, 1); err != nil {
			t.Fatal("upstream not aborted")
		}
	})
}

// TestManySocketsManyStreams: 100 sockets × 5 streams at once, under -race.
func TestManySocketsManyStreams(t *testing.T) {
	w := newWSHarness(t, wsOpt{cfg: Config{MaxConnsPerKey: -1}})
	ctx := testCtx(t)
	const sockets, streams = 100, 5
	var wg sync.WaitGroup
	errs := make(chan error, sockets*streams)
	for i := range sockets {
		c := w.dial(t, fmt.Sprintf("key-%d", i%7))
		for j := range streams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				var s *wsclient.Stream
				var err error
				if j%2 == 0 {
					s, err = c.Complete(ctx, wsclient.CompletionCreate{Prefix: fmt.Sprintf("def f_%d_%d(", i, j), MaxTokens: 12, Temperature: hot(0.9)})
				} else {
					s, err = c.Generate(ctx, wsclient.GenerationCreate{Prompt: fmt.Sprintf("task %d of socket %d", j, i), MaxTokens: 12, Temperature: hot(0.9)})
				}
				if err == nil {
					var r wsclient.Result
					r, err = s.Collect(ctx)
					if err == nil && (r.Done == nil || r.Text == "") {
						err = fmt.Errorf("socket %d stream %d: %+v", i, j, r.Err)
					}
				}
				if err != nil {
					errs <- err
				}
			}()
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	waitUntil(t, "streams released", func() bool { st := w.hub.Stats(); return st.Sessions == sockets && st.Streams == 0 })
}
