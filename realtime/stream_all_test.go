package realtime

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hapa-project/hapa/vllm/sim"
)

// All (the one-shot routes) and NextTick (the SSE relay's wait with its keep-alive timer).

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
	waitUntil(t, "upstream aborted", func() bool { return h.e.Stats().Flights == 0 })
}

func TestNextTickReturnsTicksThenText(t *testing.T) {
	h := newHarness(t, harnessOpt{noCache: true, sim: sim.Config{TTFT: 150 * time.Millisecond}})
	s, err := h.e.Start(context.Background(), genReq("write hello world"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	ticks := 0
	for {
		ev, err := s.NextTick(context.Background(), tick.C)
		if errors.Is(err, ErrTick) {
			ticks++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if ev.Text == "" {
			t.Fatalf("first event %+v, want text", ev)
		}
		break
	}
	if ticks < 3 {
		t.Fatalf("%d ticks during a 150 ms TTFT at 20 ms, want several", ticks)
	}
	text, end := drain(t, s) // the rest still arrives through Next
	if end.Done == nil || text == "" {
		t.Fatalf("rest: %q %+v", text, end)
	}
}
