package web

import (
	"context"
	"io"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hapa-project/hapa/realtime"
)

// slowSource is a narrow fake of the relay's eventSource (the relay's timing cannot be
// driven through the simulator on synctest's clock): it waits before each event. Close
// may come from the relay's keep-alive timer and ends a wait.
type slowSource struct {
	events []realtime.Event
	delays []time.Duration
	i      int
	due    time.Time // when event i is ready (set on the first wait for it)

	once   sync.Once
	gone   chan struct{} // closed by Close (made on first use)
	closed atomic.Bool
}

func (s *slowSource) goneCh() chan struct{} {
	s.once.Do(func() { s.gone = make(chan struct{}) })
	return s.gone
}

func (s *slowSource) Next(ctx context.Context) (realtime.Event, error) {
	if s.i >= len(s.events) || s.closed.Load() {
		return realtime.Event{}, io.EOF
	}
	if s.due.IsZero() {
		s.due = time.Now().Add(s.delays[s.i])
	}
	t := time.NewTimer(time.Until(s.due))
	defer t.Stop()
	select {
	case <-t.C:
	case <-s.goneCh():
		return realtime.Event{}, io.EOF
	case <-ctx.Done():
		return realtime.Event{}, ctx.Err()
	}
	s.due = time.Time{}
	s.i++
	return s.events[s.i-1], nil
}

func (s *slowSource) Close() {
	if !s.closed.Swap(true) {
		close(s.goneCh())
	}
}

func relayTo(t *testing.T, src eventSource, st sseStyle) string {
	t.Helper()
	db := openDB(t)
	srv, err := New(Config{}, Deps{DB: db, Auth: newAuth(t, db)})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/api/v1/code/generate/stream", nil)
	rl := &sseRelay{srv: srv, w: w, r: r, src: src, style: st, keepAlive: sseKeepAlive}
	rl.run()
	return w.Body.String()
}

func TestSSEKeepAlive(t *testing.T) {
	db := openDB(t) // outside the bubble: the store starts goroutines
	synctest.Test(t, func(t *testing.T) {
		done := &realtime.Done{FinishReason: "stop", Model: "prompt"}
		src := &slowSource{
			events: []realtime.Event{{Text: "x = 1"}, {Done: done}},
			delays: []time.Duration{40 * time.Second, time.Second},
		}
		srv, err := New(Config{}, Deps{DB: db, Auth: newAuth(t, db)})
		if err != nil {
			t.Fatal(err)
		}
		w := httptest.NewRecorder()
		r := httptest.NewRequest("POST", "/api/v1/code/generate/stream", nil)
		rl := &sseRelay{srv: srv, w: w, r: r, src: src, style: sseStyle{textType: "token", extension: true}, keepAlive: sseKeepAlive}
		rl.run()
		body := w.Body.String()
		// 15 s: the stream is committed (start event) with a keep-alive; 30 s: another;
		// 40 s: the token.
		want := []string{`data: {"type":"start"`, "\n\n\n", `data: {"type":"token","content":"x = 1"`, `data: {"type":"done"`, "data: [DONE]\n\n"}
		at := 0
		for _, w := range want {
			i := strings.Index(body[at:], w)
			if i < 0 {
				t.Fatalf("missing %q after offset %d in %q", w, at, body)
			}
			at += i + len(w)
		}
		if !strings.Contains(body, "}\n\n\n\ndata: {\"type\":\"token\"") || strings.Count(body, "\n") != 4*2+2 {
			t.Errorf("want exactly two bare keep-alive newlines before the token: %q", body)
		}
		if !src.closed.Load() {
			t.Error("the stream was not closed")
		}
	})
}

func TestSSEErrorBeforeFirstByteKeepsStatus(t *testing.T) {
	src := &slowSource{
		events: []realtime.Event{{Err: realtime.NewError(realtime.CodeModelTimeout, "")}},
		delays: []time.Duration{time.Millisecond},
	}
	body := relayTo(t, src, sseStyle{textType: "token", extension: true})
	if !strings.Contains(body, `"error_code":"E5001"`) || strings.HasPrefix(body, "data:") || !strings.HasSuffix(body, "\n") {
		t.Errorf("body %q", body)
	}
}

func TestSSEMarkerEndsOutput(t *testing.T) {
	done := &realtime.Done{FinishReason: "stop"}
	src := &slowSource{
		events: []realtime.Event{{Text: "print(1)\n<|E"}, {Text: "OT|>garbage"}, {Text: "more"}, {Done: done}},
		delays: []time.Duration{0, 0, 0, 0},
	}
	body := relayTo(t, src, sseStyle{textType: "token", extension: true})
	ext := parseExtension(t, strings.NewReader(body), 3)
	if ext.text != "print(1)\n" || !ext.sawDone || strings.Contains(body, "garbage") || strings.Contains(body, "more") {
		t.Errorf("text %q; body %q", ext.text, body)
	}
}
