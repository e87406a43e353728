package realtime

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/hapa-project/hapa/vllm/sim"
)

func genReq(prompt string) Request {
	return Request{Kind: KindGeneration, Prompt: prompt, Temperature: f64(0), MaxTokens: 40, Route: "test"}
}

func TestCoalescing(t *testing.T) {
	const n = 20
	h := newHarness(t, harnessOpt{noCache: true, sim: sim.Config{ITL: 2 * time.Millisecond}})
	streams := make([]*Stream, n)
	for i := range streams {
		s, err := h.e.Start(context.Background(), genReq("write a function that sums a list of numbers"))
		if err != nil {
			t.Fatal(err)
		}
		streams[i] = s
	}
	texts := make([]string, n)
	events := make([]Event, n)
	var wg sync.WaitGroup
	for i, s := range streams {
		wg.Go(func() { defer s.Close(); texts[i], events[i] = drain(t, s) })
	}
	wg.Wait()
	if got := h.sim.Stats().Requests; got != 1 {
		t.Fatalf("upstream requests = %d, want 1", got)
	}
	joined := 0
	for i := range n {
		if events[i].Done == nil {
			t.Fatalf("stream %d: %+v", i, events[i].Err)
		}
		if texts[i] != texts[0] || texts[i] == "" {
			t.Fatalf("stream %d text %q differs from %q", i, texts[i], texts[0])
		}
		if streams[i].Info().Coalesced != events[i].Done.Coalesced {
			t.Fatalf("stream %d: Info and Done disagree on Coalesced", i)
		}
		if events[i].Done.Coalesced {
			joined++
		}
	}
	if joined != n-1 {
		t.Fatalf("coalesced = %d, want %d", joined, n-1)
	}
	if st := h.e.Stats(); st.Coalesced != n-1 || st.Subscribers != 0 || st.Flights != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestLateJoinerGetsPrefixThenRest(t *testing.T) {
	h := newHarness(t, harnessOpt{noCache: true, sim: sim.Config{ITL: 3 * time.Millisecond}})
	ctx := context.Background()
	first, err := h.e.Start(ctx, genReq("parse a csv file into dictionaries"))
	if err != nil {
		t.Fatal(err)
	}
	defer first.Close()
	ev, err := first.Next(ctx) // the first text is out: the joiner is late
	if err != nil || ev.Text == "" {
		t.Fatalf("first event %+v, %v", ev, err)
	}
	late, err := h.e.Start(ctx, genReq("parse a csv file into dictionaries"))
	if err != nil {
		t.Fatal(err)
	}
	defer late.Close()
	if !late.Info().Coalesced {
		t.Fatal("late joiner not coalesced")
	}
	lateText, lateEnd := drain(t, late)
	rest, end := drain(t, first)
	if lateEnd.Done == nil || end.Done == nil {
		t.Fatalf("ends %+v %+v", lateEnd, end)
	}
	if lateText != ev.Text+rest {
		t.Fatalf("late joiner got %q, want %q", lateText, ev.Text+rest)
	}
	if got := h.sim.Stats().Requests; got != 1 {
		t.Fatalf("upstream requests = %d", got)
	}
}

func TestCancelOneSubscriberKeepsOthers(t *testing.T) {
	h := newHarness(t, harnessOpt{noCache: true, sim: sim.Config{ITL: 2 * time.Millisecond}})
	ctx1, cancel1 := context.WithCancel(context.Background())
	a, err := h.e.Start(ctx1, genReq("merge two sorted lists"))
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.e.Start(context.Background(), genReq("merge two sorted lists"))
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	cancel1() // the first caller leaves: its context is not the flight's
	_, aEnd := drain(t, a)
	if aEnd.Done == nil || aEnd.Done.FinishReason != "cancelled" {
		t.Fatalf("cancelled subscriber ended with %+v", aEnd)
	}
	text, bEnd := drain(t, b)
	if bEnd.Done == nil || bEnd.Done.FinishReason == "cancelled" || text == "" {
		t.Fatalf("other subscriber ended with %+v", bEnd)
	}
	if st := h.sim.Stats(); st.Aborted != 0 || st.Completed != 1 {
		t.Fatalf("sim stats %+v", st)
	}
}

func TestLastSubscriberLeavingAbortsUpstream(t *testing.T) {
	for _, how := range []string{"close", "cancel"} {
		t.Run(how, func(t *testing.T) {
			h := newHarness(t, harnessOpt{noCache: true, sim: sim.Config{ITL: 20 * time.Millisecond}})
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req := genReq("build a web scraper")
			req.MaxTokens = 500
			var ss []*Stream
			for range 3 {
				s, err := h.e.Start(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				ss = append(ss, s)
			}
			if ev, err := ss[0].Next(ctx); err != nil || ev.Text == "" {
				t.Fatalf("first event %+v %v", ev, err)
			}
			for _, s := range ss {
				if how == "close" {
					s.Close()
				}
			}
			if how == "cancel" {
				cancel()
			}
			wctx, wcancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer wcancel()
			if err := h.sim.WaitAborted(wctx, 1); err != nil {
				t.Fatalf("upstream not aborted: %v (stats %+v)", err, h.sim.Stats())
			}
			waitEngine(t, "flight gone", func() bool { return h.e.Stats().Flights == 0 })
			waitEngine(t, "3 cancelled rows", func() bool { return len(h.logs.snapshot()) == 3 })
			for _, r := range h.logs.snapshot() {
				if r.Status != statusCancelled {
					t.Fatalf("row %+v, want status 499", r)
				}
			}
			if got := h.incidents.list(); len(got) != 0 {
				t.Fatalf("incidents %v for a cancelled request", got)
			}
		})
	}
}

// A reader that falls behind a flight running in its own goroutine gets the text it
// missed merged into one event. (A reader waiting with a context other than Start's
// hands the flight to its goroutine; with the Start context it would pull it.)
func TestSlowReaderGetsMergedText(t *testing.T) {
	h := newHarness(t, harnessOpt{noCache: true, sim: sim.Config{ITL: 2 * time.Millisecond}})
	req := genReq("sort a dictionary by value")
	want, err := h.e.Generate(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	req.NoCache = true // its own flight
	s, err := h.e.Start(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	first, err := s.Next(ctx) // not the Start context: the flight gets its goroutine
	if err != nil || first.Text == "" {
		t.Fatalf("first event %+v, %v", first, err)
	}
	waitEngine(t, "generation finished", func() bool { return h.e.Stats().Flights == 0 })
	ev, err := s.Next(context.Background()) // read only after the end: one merged event
	if err != nil || first.Text+ev.Text != want.Text || ev.Done != nil {
		t.Fatalf("slow reader got %q then %+v, %v; want %q", first.Text, ev, err, want.Text)
	}
	if _, end := drain(t, s); end.Done == nil {
		t.Fatalf("end %+v", end)
	}
}

// cutEnd never splits a rune: it cuts before the rune that would cross the limit, and
// takes a rune longer than the limit whole.
func TestCutEnd(t *testing.T) {
	for _, tt := range []struct {
		text       string
		off, limit int
		want       string
	}{
		{"abcdef", 0, 0, "abcdef"},
		{"abcdef", 2, 3, "cde"},
		{"ab한국", 0, 4, "ab"}, // 한 is 3 bytes: cut before it
		{"ab한국", 2, 4, "한"},  // from a rune start: one whole rune fits
		{"한국", 0, 2, "한"},    // a rune longer than the limit: whole
		{"a😀b", 1, 1, "😀"},   // 4 bytes, limit 1
		{"xy", 0, 5, "xy"},
	} {
		if got := tt.text[tt.off:cutEnd(tt.text, tt.off, tt.limit)]; got != tt.want {
			t.Errorf("cutEnd(%q, %d, %d) gives %q, want %q", tt.text, tt.off, tt.limit, got, tt.want)
		}
		if got := string([]byte(tt.text)[tt.off:cutEnd([]byte(tt.text), tt.off, tt.limit)]); got != tt.want {
			t.Errorf("cutEnd([]byte %q, %d, %d) gives %q, want %q", tt.text, tt.off, tt.limit, got, tt.want)
		}
	}
}
