package realtime

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
)

// TestCompletionIDs: an id says who received the completion, when, its language and
// adapter; a changed byte, another secret or another prefix makes it unknown.
func TestCompletionIDs(t *testing.T) {
	ids := NewCompletionIDs([]byte("secret one"))
	at := time.Date(2026, 12, 6, 12, 0, 0, 123e6, time.UTC)
	id := ids.New(Caller{KeyID: 42, UserID: 7}, "typescript", "autocomplete", at)
	if !strings.HasPrefix(id, "cmpl-") || len(id) > 80 {
		t.Fatalf("id %q", id)
	}
	ref, err := ids.Parse(id)
	if err != nil || ref.KeyID != 42 || ref.UserID != 7 || ref.Language != "typescript" || ref.Adapter != "autocomplete" || !ref.CreatedAt.Equal(at) {
		t.Fatalf("parse: %+v, %v", ref, err)
	}
	if id2 := ids.New(Caller{KeyID: 42, UserID: 7}, "typescript", "autocomplete", at); id2 == id {
		t.Fatal("two completions at the same moment got one id")
	}
	bad := []string{"", "cmpl-", "cmpl-!!!", "chatcmpl-" + id[5:], id[:len(id)-1], id + "A", strings.Repeat("A", 300),
		NewCompletionIDs([]byte("secret two")).New(Caller{KeyID: 42}, "python", "autocomplete", at)}
	for i := 5; i < len(id); i += 7 { // every 7th character changed
		c := byte('A')
		if id[i] == 'A' {
			c = 'B'
		}
		bad = append(bad, id[:i]+string(c)+id[i+1:])
	}
	for _, b := range bad {
		if _, err := ids.Parse(b); err == nil {
			t.Errorf("Parse(%q) accepted", b)
		}
	}
	for _, c := range []struct {
		caller Caller
		want   bool
	}{{Caller{KeyID: 42}, true}, {Caller{KeyID: 43, UserID: 7}, false}, {Caller{UserID: 7}, false}} {
		if got := ref.ReceivedBy(c.caller); got != c.want {
			t.Errorf("ReceivedBy(%+v) = %v", c.caller, got)
		}
	}
	jwt, _ := ids.Parse(ids.New(Caller{UserID: 7}, "go", "autocomplete", at))
	if !jwt.ReceivedBy(Caller{UserID: 7}) || jwt.ReceivedBy(Caller{KeyID: 1, UserID: 7}) || jwt.ReceivedBy(Caller{UserID: 8}) {
		t.Error("a token's completion: only its user may report on it")
	}
}

type fakeFeedbackStore struct {
	mu   sync.Mutex
	rows []store.CompletionEvent
}

func (f *fakeFeedbackStore) InsertBatch(_ context.Context, evs []store.CompletionEvent) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.rows = append(f.rows, evs...)
	return nil
}

func (f *fakeFeedbackStore) snapshot() []store.CompletionEvent {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]store.CompletionEvent(nil), f.rows...)
}

type countingFeedbackObserver struct {
	mu sync.Mutex
	n  map[string]int
}

func (o *countingFeedbackObserver) CompletionEvent(event, language string) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.n[event+"/"+language]++
}

// TestFeedbackRecorder: reports are checked against their completion id (only its
// receiver, within a day), counted once, and written with what the id says.
func TestFeedbackRecorder(t *testing.T) {
	now := time.Date(2026, 12, 6, 12, 0, 0, 0, time.UTC)
	ids := NewCompletionIDs([]byte("s"))
	st := &fakeFeedbackStore{}
	obs := &countingFeedbackObserver{n: map[string]int{}}
	r := NewFeedbackRecorder(EngineConfig{LogFlushInterval: time.Millisecond}, FeedbackDeps{IDs: ids, Store: st, ModelFamily: "qwen2.5-coder",
		Observer: obs, Now: func() time.Time { return now }})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); r.Run(ctx) }()

	me := Caller{KeyID: 5, UserID: 9}
	id := ids.New(me, "rust", "autocomplete", now.Add(-1500*time.Millisecond))
	old := ids.New(me, "rust", "autocomplete", now.Add(-25*time.Hour))
	chars, lines, huge, neg := 30, 2, 1<<30, -1
	cases := []struct {
		who  Caller
		f    Feedback
		code Code // "" taken
	}{
		{me, Feedback{CompletionID: id, Event: "shown"}, ""},
		{me, Feedback{CompletionID: id, Event: "SHOWN"}, ""}, // a repeat: taken, not counted again
		{me, Feedback{CompletionID: id, Event: "accepted", AcceptedChars: &chars, AcceptedLines: &lines}, ""},
		{me, Feedback{CompletionID: id, Event: "dismissed", AcceptedChars: &huge}, ""}, // counts ignored off accepted
		{me, Feedback{CompletionID: id, Event: "accepted", AcceptedChars: &huge}, CodeOutOfRange},
		{me, Feedback{CompletionID: id, Event: "accepted", AcceptedLines: &neg}, CodeOutOfRange},
		{me, Feedback{CompletionID: id, Event: "copied"}, CodeInvalidInput},
		{me, Feedback{CompletionID: id}, CodeMissingField},
		{me, Feedback{Event: "shown"}, CodeMissingField},
		{Caller{KeyID: 6, UserID: 9}, Feedback{CompletionID: id, Event: "shown"}, CodeNotFound}, // another key
		{me, Feedback{CompletionID: old, Event: "shown"}, CodeNotFound},                         // too old
		{me, Feedback{CompletionID: "cmpl-forged", Event: "shown"}, CodeNotFound},
	}
	for i, c := range cases {
		err := r.Record(c.who, c.f)
		switch {
		case c.code == "" && err != nil:
			t.Errorf("case %d: %v", i, err)
		case c.code != "" && (err == nil || err.Code != c.code):
			t.Errorf("case %d: %v, want %s", i, err, c.code)
		}
	}
	waitEngine(t, "events written", func() bool { return len(st.snapshot()) == 3 })
	cancel()
	<-done
	rows := st.snapshot()
	acc := rows[1]
	if acc.Event != "accepted" || *acc.AcceptedChars != 30 || *acc.AcceptedLines != 2 || *acc.KeyID != 5 || *acc.UserID != 9 ||
		acc.Language != "rust" || acc.Adapter != "autocomplete" || acc.ModelFamily != "qwen2.5-coder" || acc.LatencyMs != 1500 {
		t.Fatalf("accepted row: %+v", acc)
	}
	if rows[2].AcceptedChars != nil {
		t.Errorf("dismissed row kept accepted_chars: %+v", rows[2])
	}
	if obs.n["shown/rust"] != 1 || obs.n["accepted/rust"] != 1 || obs.n["dismissed/rust"] != 1 {
		t.Errorf("metrics: %v", obs.n)
	}
}

// TestCompletionStreamsHaveIDs: every completion subscription — upstream, cached or
// coalesced — gets its own id, in StreamInfo and in Done; generations get none.
func TestCompletionStreamsHaveIDs(t *testing.T) {
	ids := NewCompletionIDs([]byte("s"))
	h := newHarness(t, harnessOpt{ids: ids})
	caller := Caller{KeyID: 3}
	complete := func() (StreamInfo, Event) {
		s, err := h.e.Start(context.Background(), Request{Kind: KindCompletion, Prefix: "def add(a, b):\n    ", Language: "Python",
			Temperature: f64(0), Caller: caller})
		if err != nil {
			t.Fatal(err)
		}
		_, ev := drain(t, s)
		return s.Info(), ev
	}
	first, ev1 := complete()
	second, ev2 := complete() // a cache hit
	if !second.Cached || first.CompletionID == "" || second.CompletionID == "" || first.CompletionID == second.CompletionID {
		t.Fatalf("ids %q and %q (second cached: %v)", first.CompletionID, second.CompletionID, second.Cached)
	}
	if ev1.Done == nil || ev1.Done.CompletionID != first.CompletionID || ev2.Done.CompletionID != second.CompletionID {
		t.Fatalf("Done carries %+v / %+v", ev1.Done, ev2.Done)
	}
	ref, err := ids.Parse(first.CompletionID)
	if err != nil || ref.KeyID != 3 || ref.Language != "python" || ref.Adapter != first.Model {
		t.Fatalf("id says %+v, %v", ref, err)
	}
	g, err := h.e.Start(context.Background(), Request{Kind: KindGeneration, Prompt: "reverse a string", Caller: caller})
	if err != nil {
		t.Fatal(err)
	}
	if _, ev := drain(t, g); g.Info().CompletionID != "" || ev.Done.CompletionID != "" {
		t.Fatalf("a generation got completion id %q", g.Info().CompletionID)
	}
}
