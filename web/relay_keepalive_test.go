package web

import (
	"context"
	"fmt"
	"testing"
	"testing/synctest"
	"time"

	"github.com/openai/openai-go/v3"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/vllm/sim"
)

// relay and its keep-alive timer: when keep-alives are due, an error before the first
// byte, and a client that leaves while the stream is silent.

// recSink records what relay does, with the fake clock's time of each step.
type recSink struct {
	t0      time.Time
	kaFails bool // the keep-alive write fails: the client is gone
	opened  bool
	log     []string
	reject  *realtime.Error
}

func (s *recSink) stamp(what string) {
	s.log = append(s.log, fmt.Sprintf("%s@%v", what, time.Since(s.t0).Round(time.Second)))
}
func (s *recSink) committed() bool { return s.opened }
func (s *recSink) rejectEarly(e *realtime.Error) {
	s.reject = e
	s.stamp("reject")
}
func (s *recSink) handle(ev realtime.Event) bool {
	switch {
	case ev.Err != nil:
		s.stamp("err")
		return false
	case ev.Done != nil:
		s.stamp("done")
		return false
	}
	s.stamp("text")
	return true
}
func (s *recSink) sendKeepAlive() bool { s.stamp("ka"); return !s.kaFails }
func (s *recSink) failed() bool        { return false }

func (s *recSink) open() {
	if !s.opened {
		s.opened = true
		s.stamp("open")
	}
}

func relayLog(t *testing.T, ctx context.Context, src eventSource, keepAlive time.Duration) *recSink {
	t.Helper()
	s := &recSink{t0: time.Now()}
	relay(ctx, src, s, keepAlive)
	return s
}

func TestRelayKeepAliveTiming(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		done := &realtime.Done{FinishReason: "stop"}
		// First text before one interval: no keep-alive before the header. Then a
		// silence of 35 s at a 10 s interval: keep-alives at 19, 29, 39 s (the timer
		// restarts after each event and each keep-alive), never a stale early one.
		src := &slowSource{
			events: []realtime.Event{{Text: "a"}, {Text: "b"}, {Done: done}},
			delays: []time.Duration{9 * time.Second, 35 * time.Second, time.Second},
		}
		s := relayLog(t, context.Background(), src, 10*time.Second)
		want := "[open@9s text@9s ka@19s ka@29s ka@39s text@44s done@45s]"
		if got := fmt.Sprint(s.log); got != want {
			t.Fatalf("relay steps %s, want %s", got, want)
		}
		if !src.closed.Load() {
			t.Fatal("source not closed")
		}
	})
}

func TestRelayEarlyErrorGetsStatus(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		e := realtime.NewError(realtime.CodeModelUnavailable, "down")
		src := &slowSource{events: []realtime.Event{{Err: e}}, delays: []time.Duration{9 * time.Second}}
		s := relayLog(t, context.Background(), src, 10*time.Second)
		if s.reject == nil || s.opened {
			t.Fatalf("an error before one interval: %v (open %v), want a plain error response", s.log, s.opened)
		}
		// After one interval of silence the stream is committed: the error is an event.
		src = &slowSource{events: []realtime.Event{{Err: e}}, delays: []time.Duration{11 * time.Second}}
		s = relayLog(t, context.Background(), src, 10*time.Second)
		if want := "[open@10s ka@10s err@11s]"; fmt.Sprint(s.log) != want || s.reject != nil {
			t.Fatalf("late error: %v, want %s", s.log, want)
		}
	})
}

func TestRelayClientLeavesWhileSilent(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &slowSource{events: []realtime.Event{{Text: "a"}}, delays: []time.Duration{time.Hour}}
		ctx, cancel := context.WithCancel(context.Background())
		time.AfterFunc(25*time.Second, cancel)
		t0 := time.Now()
		s := relayLog(t, ctx, src, 10*time.Second)
		if d := time.Since(t0); d != 25*time.Second {
			t.Fatalf("relay returned after %v, want at the cancel (25s)", d)
		}
		if want := "[open@10s ka@10s ka@20s]"; fmt.Sprint(s.log) != want {
			t.Fatalf("steps %v, want %s", s.log, want)
		}
	})
}

// A non-streaming OpenAI request on a private flight runs inline in the handler
// (All pulls the flight); the client leaving must still abort the upstream at once.
func TestOpenAIOneShotDisconnectAbortsInlineFlight(t *testing.T) {
	oe := newOpenAIEnv(t, openAIOpts{sim: sim.Config{ITL: 20 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	p := chatParams("hapa-generate")
	p.MaxTokens, p.Temperature = openai.Int(2000), openai.Float(0.9) // private: not coalescable
	time.AfterFunc(150*time.Millisecond, cancel)
	if _, err := oe.client.Chat.Completions.New(ctx, p); err == nil {
		t.Fatal("the request succeeded despite the client leaving")
	}
	wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer wcancel()
	if err := oe.sim.WaitAborted(wctx, 1); err != nil {
		t.Fatalf("the simulator saw no abort: %v (stats %+v)", err, oe.sim.Stats())
	}
	for oe.engine.Stats().Flights != 0 || oe.engine.Stats().Subscribers != 0 {
		if wctx.Err() != nil {
			t.Fatalf("flight still running: %+v", oe.engine.Stats())
		}
		time.Sleep(5 * time.Millisecond)
	}
	if s := oe.sim.Stats(); s.Completed != 0 {
		t.Errorf("the generation completed anyway: %+v", s)
	}
}

// A keep-alive the client cannot take ends the relay at once, although it is waiting
// for the next event (with a *realtime.Stream, inside the upstream read): the timer
// closes the source.
func TestRelayKeepAliveFailureEndsTheWait(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		src := &slowSource{events: []realtime.Event{{Text: "a"}}, delays: []time.Duration{time.Hour}}
		s := &recSink{t0: time.Now(), kaFails: true}
		relay(context.Background(), src, s, 10*time.Second)
		if d := time.Since(s.t0); d != 10*time.Second || !src.closed.Load() {
			t.Fatalf("relay returned after %v (source closed %v), want at the failed keep-alive (10s)", d, src.closed.Load())
		}
		if want := "[open@10s ka@10s]"; fmt.Sprint(s.log) != want {
			t.Fatalf("steps %v, want %s", s.log, want)
		}
	})
}
