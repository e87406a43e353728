package ws

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/realtime/ws/wsclient"
	"github.com/hapa-project/hapa/vllm/sim"
)

func hot(v float64) *float64 { return &v }

func TestSessionCreatedFirst(t *testing.T) {
	w := newWSHarness(t, wsOpt{cfg: Config{ServerVersion: "1.2.3", MaxStreams: 5}})
	c := w.dial(t, "key-a")
	s := c.Session()
	if s.Protocol != Protocol || s.ServerVersion != "1.2.3" || !strings.HasPrefix(s.SessionID, "ses_") ||
		s.Limits == nil || s.Limits.MaxStreams != 5 || s.Limits.MaxMessageBytes != 256<<10 || s.Limits.PingIntervalMS != 30000 {
		t.Fatalf("session.created = %+v limits %+v", s, s.Limits)
	}
	if err := c.Ping(testCtx(t)); err != nil {
		t.Fatalf("ping: %v", err)
	}
	ws := "/work/app"
	raw, err := c.Update(testCtx(t), wsclient.SessionUpdate{Workspace: &ws, Editor: &wsclient.Editor{Name: "vscode", Version: "1.96"},
		Profile: &wsclient.Profile{PythonSkillLevel: "expert"}})
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Update(testCtx(t), wsclient.SessionUpdate{Profile: &wsclient.Profile{PythonSkillLevel: "wizard"}})
	var we *wsclient.Error
	if !errors.As(err, &we) || we.Code != "E4008" || !strings.Contains(string(we.Details), "profile.pythonSkillLevel") {
		t.Fatalf("invalid profile: %v", err)
	}
	for _, want := range []string{`"workspace":"/work/app"`, `"name":"vscode"`, `"pythonSkillLevel":"expert"`, s.SessionID} {
		if !strings.Contains(string(raw), want) {
			t.Errorf("session.updated %s lacks %s", raw, want)
		}
	}
}

// TestMultiplexedStreams runs 3 generations and 5 completions at once on one socket;
// each must be complete, in order (Collect checks seq), and equal to what the engine
// answers directly for the same request.
func TestMultiplexedStreams(t *testing.T) {
	w := newWSHarness(t, wsOpt{sim: sim.Config{TTFT: 2 * time.Millisecond, ITL: time.Millisecond}})
	c := w.dial(t, "key-a")
	ctx := testCtx(t)
	type job struct {
		s   *wsclient.Stream
		req realtime.Request
	}
	var jobs []job
	for i := range 8 {
		var s *wsclient.Stream
		var err error
		var req realtime.Request
		if i%3 == 0 {
			p := fmt.Sprintf("write a function that parses config file number %d", i)
			s, err = c.Generate(ctx, wsclient.GenerationCreate{Prompt: p, MaxTokens: 64})
			req = realtime.Request{Kind: realtime.KindGeneration, Prompt: p, MaxTokens: 64}
		} else {
			pre := fmt.Sprintf("def handler_%d(request):\n    ", i)
			s, err = c.Complete(ctx, wsclient.CompletionCreate{Prefix: pre, MaxTokens: 24})
			req = realtime.Request{Kind: realtime.KindCompletion, Task: realtime.TaskCompletion, Prefix: pre, MaxTokens: 24}
		}
		if err != nil {
			t.Fatal(err)
		}
		jobs = append(jobs, job{s, req})
	}
	var wg sync.WaitGroup
	results := make([]wsclient.Result, len(jobs))
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		wg.Add(1)
		go func() { defer wg.Done(); results[i], errs[i] = j.s.Collect(ctx) }()
	}
	wg.Wait()
	for i, r := range results {
		if errs[i] != nil || r.Done == nil {
			t.Fatalf("stream %d: %v %+v", i, errs[i], r.Err)
		}
		if r.Text == "" || r.Done.Usage == nil || r.Done.Usage.CompletionTokens == 0 || r.Started.Model == "" {
			t.Errorf("stream %d: text %q done %+v", i, r.Text, r.Done)
		}
		req := jobs[i].req
		req.Caller = realtime.Caller{KeyID: 1, UserID: 101}
		st, err := w.e.Start(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		direct, _ := drain(t, st)
		st.Close()
		if direct != r.Text {
			t.Errorf("stream %d: WS text %q != engine text %q", i, r.Text, direct)
		}
	}
	// The server releases a stream just after writing its terminal frame.
	waitUntil(t, "streams released", func() bool { st := w.hub.Stats(); return st.Streams == 0 && st.Sessions == 1 })
}

func TestCancelReachesSimulator(t *testing.T) {
	w := newWSHarness(t, wsOpt{sim: sim.Config{ITL: 20 * time.Millisecond}})
	c := w.dial(t, "key-a")
	ctx := testCtx(t)
	s, err := c.Generate(ctx, wsclient.GenerationCreate{ID: "g1", Prompt: "explain the visitor pattern at length", MaxTokens: 500, Temperature: hot(0.9)})
	if err != nil {
		t.Fatal(err)
	}
	for {
		ev, err := s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Type == "stream.delta" {
			break
		}
	}
	if err := c.Cancel(ctx, "g1"); err != nil {
		t.Fatal(err)
	}
	r, err := s.Collect(ctx)
	if err != nil || r.Done == nil || r.Done.FinishReason != "cancelled" {
		t.Fatalf("after cancel: %v %+v %+v", err, r.Done, r.Err)
	}
	if err := w.sim.WaitAborted(ctx, 1); err != nil {
		t.Fatalf("simulator saw no abort: %v", err)
	}
	// The id is free again and the socket still works.
	s2, err := c.Generate(ctx, wsclient.GenerationCreate{ID: "g1", Prompt: "short", MaxTokens: 4})
	if err != nil {
		t.Fatal(err)
	}
	if r, err := s2.Collect(ctx); err != nil || r.Done == nil {
		t.Fatalf("reused id: %v %+v", err, r.Err)
	}
}

func TestReplaceCancelsOtherCompletionsOnly(t *testing.T) {
	w := newWSHarness(t, wsOpt{sim: sim.Config{ITL: 15 * time.Millisecond}})
	c := w.dial(t, "key-a")
	ctx := testCtx(t)
	gen, _ := c.Generate(ctx, wsclient.GenerationCreate{Prompt: "write a tokenizer", MaxTokens: 30, Temperature: hot(0.9)})
	c1, _ := c.Complete(ctx, wsclient.CompletionCreate{Prefix: "import os\ndef walk(", MaxTokens: 200, Temperature: hot(0.9)})
	c2, _ := c.Complete(ctx, wsclient.CompletionCreate{Prefix: "import os\ndef walk(root", MaxTokens: 200, Temperature: hot(0.9)})
	for _, s := range []*wsclient.Stream{c1, c2} { // both have output: both are running upstream
		for ev, err := s.Next(ctx); ev.Type != "stream.delta"; ev, err = s.Next(ctx) {
			if err != nil {
				t.Fatal(err)
			}
		}
	}
	c3, err := c.Complete(ctx, wsclient.CompletionCreate{Prefix: "import os\ndef walk(root):", MaxTokens: 8, Replace: true})
	if err != nil {
		t.Fatal(err)
	}
	for i, s := range []*wsclient.Stream{c1, c2} {
		if ev := terminalOf(t, ctx, s); ev.FinishReason != "cancelled" {
			t.Fatalf("replaced completion %d: %+v %+v", i+1, ev, ev.Error)
		}
	}
	if r, err := c3.Collect(ctx); err != nil || r.Done == nil || r.Done.FinishReason == "cancelled" {
		t.Fatalf("replacing completion: %v %+v %+v", err, r.Done, r.Err)
	}
	if r, err := gen.Collect(ctx); err != nil || r.Done == nil || r.Done.FinishReason == "cancelled" {
		t.Fatalf("generation must survive replace: %v %+v %+v", err, r.Done, r.Err)
	}
	if err := w.sim.WaitAborted(ctx, 2); err != nil {
		t.Fatalf("aborts = %d: %v", w.sim.Stats().Aborted, err)
	}
}

func TestBadFrames(t *testing.T) {
	w := newWSHarness(t, wsOpt{cfg: Config{MaxMessageBytes: 1024}, sim: sim.Config{ITL: 5 * time.Millisecond}})
	c := w.dial(t, "key-a")
	ctx := testCtx(t)
	expectError := func(t *testing.T, code, eventID string) {
		t.Helper()
		select {
		case ev := <-c.Events():
			if ev.Type != "error" || ev.Error == nil || ev.Error.Code != code || ev.EventID != eventID {
				t.Fatalf("got %+v (error %+v), want error %s event_id %q", ev, ev.Error, code, eventID)
			}
		case <-ctx.Done():
			t.Fatal("no error frame")
		}
	}
	tests := []struct {
		name, frame, code, eventID string
		binary                     bool
	}{
		{name: "not JSON", frame: "hello", code: "E4001"},
		{name: "unknown type", frame: `{"type":"stream.pause","event_id":"e1"}`, code: "E4001", eventID: "e1"},
		{name: "missing id", frame: `{"type":"generation.create","event_id":"e2","prompt":"x"}`, code: "E4002", eventID: "e2"},
		{name: "wrong field type", frame: `{"type":"generation.create","event_id":"e3","id":"x","prompt":7}`, code: "E4001", eventID: "e3"},
		{name: "binary", frame: `{"type":"ping"}`, code: "E4001", binary: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := c.SendRaw(ctx, tt.binary, []byte(tt.frame)); err != nil {
				t.Fatal(err)
			}
			expectError(t, tt.code, tt.eventID)
			if err := c.Ping(ctx); err != nil {
				t.Fatalf("socket unusable after the bad frame: %v", err)
			}
		})
	}
	t.Run("duplicate in-flight id", func(t *testing.T) {
		s, err := c.Generate(ctx, wsclient.GenerationCreate{ID: "dup", Prompt: "a long story about parsers", MaxTokens: 40, Temperature: hot(0.9)})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.Send(ctx, map[string]any{"type": "generation.create", "id": "dup", "event_id": "e4", "prompt": "x"}); err != nil {
			t.Fatal(err)
		}
		expectError(t, "E4012", "e4")
		if r, err := s.Collect(ctx); err != nil || r.Done == nil {
			t.Fatalf("the original stream: %v %+v", err, r.Err)
		}
	})
	t.Run("validation error is a stream.error", func(t *testing.T) {
		s, _ := c.Generate(ctx, wsclient.GenerationCreate{Prompt: "x", Language: "cobol"})
		if r, err := s.Collect(ctx); err != nil || r.Err == nil || r.Err.Code != "E4009" || r.Started != nil {
			t.Fatalf("got %v %+v", err, r)
		}
	})
	t.Run("oversized frame closes 1009", func(t *testing.T) {
		_ = c.SendRaw(ctx, false, []byte(`{"type":"ping","pad":"`+strings.Repeat("x", 2000)+`"}`))
		<-c.Done()
		if got := c.CloseStatus(); got != int(websocket.StatusMessageTooBig) {
			t.Fatalf("close status %d, want 1009 (%v)", got, c.Err())
		}
	})
	waitUntil(t, "session end", func() bool { return w.hub.Stats().Sessions == 0 })
	if w.obs.closed(1009) != 1 {
		t.Errorf("observer closes = %v", w.obs.closes)
	}
}

// terminalOf reads s (already partly read) up to its terminal frame.
func terminalOf(t *testing.T, ctx context.Context, s *wsclient.Stream) wsclient.Event {
	t.Helper()
	for {
		ev, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("%s: %v", s.ID, err)
		}
		if ev.Terminal() {
			return ev
		}
	}
}

// TestCancelKeepsCoalescedPeer: two sockets ask the same question; the second joins the
// first one's upstream request. Cancelling the first must not abort the upstream
// request the second still reads.
func TestCancelKeepsCoalescedPeer(t *testing.T) {
	w := newWSHarness(t, wsOpt{sim: sim.Config{ITL: 10 * time.Millisecond}})
	a, b := w.dial(t, "key-a"), w.dial(t, "key-b")
	ctx := testCtx(t)
	req := wsclient.GenerationCreate{ID: "same", Prompt: "write a function that merges two sorted lists", MaxTokens: 60, Temperature: hot(0)}
	sa, _ := a.Generate(ctx, req)
	for ev, err := sa.Next(ctx); ev.Type != "stream.delta"; ev, err = sa.Next(ctx) {
		if err != nil {
			t.Fatal(err)
		}
	}
	sb, _ := b.Generate(ctx, req)
	started, err := sb.Next(ctx)
	if err != nil || started.Type != "stream.started" || !started.Coalesced {
		t.Fatalf("second socket: %+v %v, want a coalesced start", started, err)
	}
	_ = a.Cancel(ctx, "same")
	if ev := terminalOf(t, ctx, sa); ev.FinishReason != "cancelled" {
		t.Fatalf("cancelled socket: %+v", ev)
	}
	done := terminalOf(t, ctx, sb)
	if done.Type != "stream.done" || done.FinishReason == "cancelled" {
		t.Fatalf("peer: %+v %+v", done, done.Error)
	}
	if st := w.sim.Stats(); st.Aborted != 0 || st.Requests != 1 {
		t.Fatalf("simulator %+v: the peer's upstream request must survive the cancel", st)
	}
}
