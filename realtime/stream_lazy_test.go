package realtime

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hapa-project/hapa/vllm/sim"
)

// Stream.All and the lazy flight a reader runs inline: shutdown, contexts, one row
// per flight.

// oneShotReq is a private (non-coalescable) one-shot request: its flight is lazy.
func oneShotReq(prompt string) Request {
	req := genReq(prompt)
	temp := 0.7
	req.Temperature = &temp
	return req
}

// A lazy flight its caller has not read yet must not hold up the engine's shutdown:
// Run cancels in-flight work and its subscriber gets the shutdown error, as for a
// flight running in its goroutine.
func TestLazyFlightDoesNotBlockShutdown(t *testing.T) {
	h := newHarness(t, harnessOpt{noCache: true, sim: sim.Config{Seed: 3}})
	s, err := h.e.Start(context.Background(), oneShotReq("write a function that adds two numbers"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	stopped := make(chan struct{})
	go func() { h.stop(); close(stopped) }()
	select {
	case <-stopped:
	case <-time.After(3 * time.Second):
		s.Close() // unblock the cleanup
		t.Fatal("Engine.Run did not return while a lazy one-shot flight was pending")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	ev, err := s.All(ctx)
	if err != nil || ev.Err == nil || ev.Err.Code != CodeModelUnavailable {
		t.Fatalf("All after shutdown: %+v %v, want an E5005 error event", ev, err)
	}
	if n := h.e.Stats().Flights; n != 0 {
		t.Fatalf("flights %d after shutdown", n)
	}
}

// All's own context (not the Start context) ending returns ctx's error at once, as
// documented ("Errors and io.EOF are as for Next"), also for a lazy flight that All
// would otherwise run inline until the upstream answers; the generation goes on.
func TestAllHonoursItsContextForLazyFlight(t *testing.T) {
	h := newHarness(t, harnessOpt{noCache: true, sim: sim.Config{TTFT: 5 * time.Second}})
	s, err := h.e.Start(context.Background(), oneShotReq("a slow answer"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	t0 := time.Now()
	_, err = s.All(ctx)
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("All with an expiring context: %v, want DeadlineExceeded", err)
	}
	if d := time.Since(t0); d > time.Second {
		t.Fatalf("All returned after %v, want about 50ms", d)
	}
	if n := h.e.Stats().Flights; n != 1 {
		t.Fatalf("flights %d, want the generation still running", n)
	}
	s.Close()
	waitEngine(t, "flight gone", func() bool { return h.e.Stats().Flights == 0 })
}

// Exactly one request-log row per request, for lazy flights run inline, read with
// Next, abandoned before reading, and cancelled while running inline.
func TestLazyFlightsWriteOneRowEach(t *testing.T) {
	h := newHarness(t, harnessOpt{noCache: true, sim: sim.Config{Seed: 5, TTFT: 200 * time.Millisecond}})
	req := oneShotReq("write a function that reverses a list")

	a, _ := h.e.Start(context.Background(), req)
	if ev, err := a.All(context.Background()); err != nil || ev.Done == nil {
		t.Fatalf("All: %+v %v", ev, err)
	}
	a.Close()

	b, _ := h.e.Start(context.Background(), req)
	drain(t, b)
	b.Close()

	c, _ := h.e.Start(context.Background(), req)
	c.Close()
	c.Close()

	ctx, cancel := context.WithCancel(context.Background())
	d, _ := h.e.Start(ctx, req)
	time.AfterFunc(30*time.Millisecond, cancel)
	if ev, err := d.All(ctx); err != nil || ev.Done == nil || ev.Done.FinishReason != "cancelled" {
		t.Fatalf("cancelled All: %+v %v", ev, err)
	}
	d.Close()

	waitEngine(t, "four rows", func() bool { return len(h.logs.snapshot()) >= 4 })
	time.Sleep(50 * time.Millisecond)
	rows := h.logs.snapshot()
	if len(rows) != 4 {
		t.Fatalf("%d rows, want 4: %+v", len(rows), rows)
	}
	var cancelled int
	for _, r := range rows {
		if r.Status == statusCancelled {
			cancelled++
		}
	}
	if cancelled != 2 {
		t.Fatalf("%d cancelled rows, want 2 (the abandoned and the cancelled one): %+v", cancelled, rows)
	}
	waitEngine(t, "no flights", func() bool { st := h.e.Stats(); return st.Flights == 0 && st.Subscribers == 0 })
}

// All after some Next reads returns only the unread rest, live and replayed.
func TestAllAfterPartialNext(t *testing.T) {
	h := newHarness(t, harnessOpt{sim: sim.Config{Seed: 9, ITL: time.Millisecond}})
	req := genReq("write a function that sorts a list of numbers")
	whole, err := h.e.Generate(context.Background(), req)
	if err != nil || len(whole.Text) < 2*replayChunk {
		t.Fatalf("Generate: %q %v (want more than two replay chunks)", whole.Text, err)
	}
	hit, err := h.e.Start(context.Background(), req) // cache hit: replayed in chunks
	if err != nil {
		t.Fatal(err)
	}
	defer hit.Close()
	first, err := hit.Next(context.Background())
	if err != nil || first.Text == "" {
		t.Fatalf("Next: %+v %v", first, err)
	}
	ev, err := hit.All(context.Background())
	if err != nil || ev.Done == nil || !ev.Done.Cached || first.Text+ev.Text != whole.Text {
		t.Fatalf("replay Next+All: %q + %+v %v, want %q", first.Text, ev, err, whole.Text)
	}

	live := oneShotReq("write a function that sorts a list of numbers")
	s, err := h.e.Start(context.Background(), live)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	first, err = s.Next(context.Background()) // starts the lazy flight in a goroutine
	if err != nil || first.Text == "" {
		t.Fatalf("live Next: %+v %v", first, err)
	}
	ev, err = s.All(context.Background())
	if err != nil || ev.Done == nil || ev.Done.Cached {
		t.Fatalf("live All: %+v %v", ev, err)
	}
	if ev.Done.TTFT <= 0 || ev.Done.Latency < ev.Done.TTFT {
		t.Fatalf("timings %v / %v", ev.Done.TTFT, ev.Done.Latency)
	}
	if _, err := s.All(context.Background()); err == nil {
		t.Fatal("All after the terminal event: want io.EOF")
	}
}
