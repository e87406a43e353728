package realtime

import (
	"context"
	"io"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hapa-project/hapa/vllm"
	"github.com/hapa-project/hapa/vllm/sim"
)

// Flights pulled by their reader (Stream.Next / All with the Start context) and handed
// to a goroutine of their own when pulling would be wrong.

// callerUpstream records, for each upstream request, whether it was opened by a
// reader pulling its flight (Stream.Next or All on the stack) or by a flight goroutine.
type callerUpstream struct {
	Upstream
	mu     sync.Mutex
	pulled []bool
}

func (u *callerUpstream) Stream(ctx context.Context, req vllm.Request) (*vllm.Stream, error) {
	buf := make([]byte, 16<<10)
	stack := string(buf[:runtime.Stack(buf, false)])
	u.mu.Lock()
	u.pulled = append(u.pulled, strings.Contains(stack, "realtime.(*Stream).Next") || strings.Contains(stack, "realtime.(*Stream).All"))
	u.mu.Unlock()
	return u.Upstream.Stream(ctx, req)
}

func (u *callerUpstream) opened() []bool {
	u.mu.Lock()
	defer u.mu.Unlock()
	return append([]bool(nil), u.pulled...)
}

func pullHarness(t *testing.T, sc sim.Config) (*harness, *callerUpstream) {
	cu := &callerUpstream{}
	h := newHarness(t, harnessOpt{noCache: true, sim: sc, wrap: func(u Upstream) Upstream { cu.Upstream = u; return cu }})
	return h, cu
}

// readAll reads s with ctx to its end.
func readAll(t *testing.T, ctx context.Context, s *Stream) (string, Event) {
	t.Helper()
	var text strings.Builder
	for {
		ev, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		text.WriteString(ev.Text)
		if ev.Done != nil || ev.Err != nil {
			return text.String(), ev
		}
	}
}

// startPulled starts req with the background context and reads its first text, so
// the reader has pulled the flight once; the stream closes when the test ends.
func startPulled(t *testing.T, h *harness, req Request) *Stream {
	t.Helper()
	s, err := h.e.Start(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(s.Close)
	if ev, err := s.Next(context.Background()); err != nil || ev.Text == "" {
		t.Fatalf("first: %+v %v", ev, err)
	}
	return s
}

func TestNextWithStartContextPullsTheFlight(t *testing.T) {
	h, cu := pullHarness(t, sim.Config{Seed: 5, ITL: time.Millisecond})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	s, err := h.e.Start(ctx, oneShotReq("write a function that reverses a string"))
	if err != nil {
		t.Fatal(err)
	}
	text, end := readAll(t, ctx, s)
	s.Close()
	if end.Done == nil || end.Done.FinishReason == "cancelled" || text == "" {
		t.Fatalf("pulled stream: %q %+v", text, end)
	}
	// Another context than Start's: the flight gets a goroutine of its own.
	s2, err := h.e.Start(ctx, oneShotReq("write a function that reverses a string"))
	if err != nil {
		t.Fatal(err)
	}
	other, cancel2 := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel2()
	text2, end2 := readAll(t, other, s2)
	s2.Close()
	if end2.Done == nil || text2 != text {
		t.Fatalf("pushed stream: %q %+v, want %q", text2, end2, text)
	}
	if got := cu.opened(); len(got) != 2 || !got[0] || got[1] {
		t.Fatalf("opened by a pulling reader: %v, want [true false]", got)
	}
	waitEngine(t, "rows", func() bool { return len(h.logs.snapshot()) == 2 })
}

// A second subscriber joining a pulled flight must not depend on the first reading on:
// the flight moves to its own goroutine.
func TestJoinHandsOffAPulledFlight(t *testing.T) {
	h, _ := pullHarness(t, sim.Config{Seed: 6, ITL: 2 * time.Millisecond})
	req := genReq("write a function that merges two sorted lists") // default temperature: shared
	req.MaxTokens = 40
	ctx := context.Background()
	s1, err := h.e.Start(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	defer s1.Close()
	first, err := s1.Next(ctx) // pulls the flight up to its first text
	if err != nil || first.Text == "" {
		t.Fatalf("first: %+v %v", first, err)
	}
	s2, err := h.e.Start(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	if !s2.Info().Coalesced {
		t.Fatal("the second request did not join the flight")
	}
	done := make(chan Event, 1)
	go func() { _, end := readAll(t, ctx, s2); done <- end }()
	select {
	case end := <-done: // s1 never reads again
		if end.Done == nil {
			t.Fatalf("joiner's end %+v", end)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the joiner waited on the first subscriber, which stopped reading")
	}
	rest, end := readAll(t, ctx, s1) // the first subscriber reads the rest afterwards
	if end.Done == nil {
		t.Fatalf("first subscriber's rest: %q %+v", rest, end)
	}
}

// The engine stops while a pulled flight's reader is busy elsewhere (not in Next):
// the flight ends without it and Run returns.
func TestShutdownEndsAPulledFlightWhoseReaderIsAway(t *testing.T) {
	h, _ := pullHarness(t, sim.Config{Seed: 7, ITL: 50 * time.Millisecond})
	req := oneShotReq("write a long essay about sorting")
	req.MaxTokens = 400
	ctx := context.Background()
	s := startPulled(t, h, req)
	stopped := make(chan struct{})
	go func() { h.stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(5 * time.Second):
		t.Fatal("Engine.Run waited for a pulled flight whose reader was not reading")
	}
	_, end := readAll(t, ctx, s)
	if end.Err == nil || end.Err.Code != CodeModelUnavailable {
		t.Fatalf("after shutdown: %+v, want E5005", end)
	}
}

// Close from another goroutine, and the Start context ending, both end a Next that is
// blocked on the upstream inside a pull step.
func TestPullStepEndsOnCloseAndCancel(t *testing.T) {
	h, cu := pullHarness(t, sim.Config{TTFT: time.Hour})
	s, err := h.e.Start(context.Background(), oneShotReq("write hello world"))
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, s.Close)
	if _, err := s.Next(context.Background()); err != io.EOF {
		t.Fatalf("Next after Close: %v, want io.EOF", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	s2, err := h.e.Start(ctx, oneShotReq("write hello world"))
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(50*time.Millisecond, cancel)
	ev, err := s2.Next(ctx)
	if err != nil || ev.Done == nil || ev.Done.FinishReason != "cancelled" {
		t.Fatalf("Next after cancel: %+v %v, want the cancelled Done", ev, err)
	}
	s2.Close()
	waitEngine(t, "flights gone", func() bool { return h.e.Stats().Flights == 0 })
	waitEngine(t, "upstream aborted", func() bool { return h.sim.Stats().Running == 0 && h.sim.Stats().Aborted == 2 })
	if got := cu.opened(); len(got) != 2 || !got[0] || !got[1] {
		t.Fatalf("opened by a pulling reader: %v", got)
	}
}
