package realtime

import (
	"context"
	"testing"
	"time"

	"github.com/hapa-project/hapa/vllm/sim"
)

// All (the one-shot routes).

func TestAllEqualsNextJoined(t *testing.T) {
	h := newHarness(t, harnessOpt{noCache: true, sim: sim.Config{Seed: 7, ITL: time.Millisecond}})
	req := genReq("write a function that reverses a string")
	a, err := h.e.Start(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	wantText, wantEnd := drain(t, a)
	a.Close()
	b, err := h.e.Start(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	ev, err := b.All(context.Background())
	if err != nil || ev.Done == nil {
		t.Fatalf("All: %+v %v", ev, err)
	}
	if ev.Text != wantText || wantText == "" {
		t.Fatalf("All text %q, Next joined %q", ev.Text, wantText)
	}
	if ev.Done.Usage != wantEnd.Done.Usage || ev.Done.FinishReason != wantEnd.Done.FinishReason {
		t.Fatalf("All done %+v, Next done %+v", ev.Done, wantEnd.Done)
	}
	if ev.Done.TTFT <= 0 || ev.Done.Latency < ev.Done.TTFT {
		t.Fatalf("timings %v / %v", ev.Done.TTFT, ev.Done.Latency)
	}
	if _, err := b.All(context.Background()); err == nil {
		t.Fatal("All after the terminal event: want io.EOF")
	}
	// A cache hit (replay) gives the whole entry at once too.
	hc := newHarness(t, harnessOpt{sim: sim.Config{Seed: 7}})
	first, _ := hc.e.Generate(context.Background(), req)
	hit, err := hc.e.Start(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer hit.Close()
	ev, err = hit.All(context.Background())
	if err != nil || ev.Done == nil || !ev.Done.Cached || ev.Text != first.Text {
		t.Fatalf("cache hit All: %+v %v (want cached %q)", ev, err, first.Text)
	}
}

func TestAllWhenTheCallerLeaves(t *testing.T) {
	h := newHarness(t, harnessOpt{noCache: true, sim: sim.Config{TTFT: 5 * time.Second}})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := h.e.Start(ctx, genReq("a slow answer"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	time.AfterFunc(20*time.Millisecond, cancel)
	ev, err := s.All(ctx)
	if err != nil || ev.Done == nil || ev.Done.FinishReason != "cancelled" {
		t.Fatalf("All after cancel: %+v %v, want a cancelled Done", ev, err)
	}
	waitEngine(t, "upstream aborted", func() bool { return h.e.Stats().Flights == 0 })
}

// A private flight runs in the caller's goroutine inside All; abandoned
// before All, it never reaches the upstream and the engine can still stop.
func TestOneShotFlightRunsInline(t *testing.T) {
	h := newHarness(t, harnessOpt{noCache: true, sim: sim.Config{Seed: 3}})
	req := genReq("write a function that reverses a list")
	temp := 0.7 // not coalescable: a private flight
	req.Temperature = &temp
	s, err := h.e.Start(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if n := h.sim.Stats().Requests; n != 0 {
		t.Fatalf("the upstream got %d requests before All", n)
	}
	ev, err := s.All(context.Background())
	s.Close()
	if err != nil || ev.Done == nil || ev.Text == "" || h.sim.Stats().Requests != 1 {
		t.Fatalf("All: %+v %v (upstream requests %d)", ev, err, h.sim.Stats().Requests)
	}
	// Closed without reading: nothing is sent upstream and the flight is gone.
	s2, err := h.e.Start(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	if st := h.e.Stats(); st.Flights != 0 || h.sim.Stats().Requests != 1 {
		t.Fatalf("after an abandoned one-shot: stats %+v, upstream requests %d", st, h.sim.Stats().Requests)
	}
	// Read with Next instead, the reader pulls the flight the same way.
	s3, err := h.e.Start(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	text, end := drain(t, s3)
	s3.Close()
	if end.Done == nil || text == "" {
		t.Fatalf("Next on a one-shot flight: %q %+v", text, end)
	}
	// A cancelled caller in the middle of an inline run gets a cancelled Done.
	hs := newHarness(t, harnessOpt{noCache: true, sim: sim.Config{TTFT: 5 * time.Second}})
	ctx, cancel := context.WithCancel(context.Background())
	s4, err := hs.e.Start(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	time.AfterFunc(30*time.Millisecond, cancel)
	ev, err = s4.All(ctx)
	s4.Close()
	if err != nil || ev.Done == nil || ev.Done.FinishReason != "cancelled" {
		t.Fatalf("inline run cancelled: %+v %v", ev, err)
	}
	waitEngine(t, "flight gone", func() bool { return hs.e.Stats().Flights == 0 })
}
