package web

import (
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// openAIRelayTo runs the OpenAI relay over src (the slowSource fake of the code
// routes' tests) on synctest's clock and returns the status and body.
func openAIRelayTo(t *testing.T, db *store.DB, src eventSource, usage bool) (int, string) {
	t.Helper()
	srv, err := New(Config{}, Deps{DB: db, Auth: newAuth(t, db)})
	if err != nil {
		t.Fatal(err)
	}
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
	rl := &openAIRelay{srv: srv, w: w, r: r, src: src, f: newOpenAIFormat(true, "hapa-generate", 1), usage: usage, keepAlive: sseKeepAlive}
	rl.run()
	return w.Code, w.Body.String()
}

func TestOpenAIRelayKeepAliveAndLateError(t *testing.T) {
	db := openDB(t) // outside the bubble: the store starts goroutines
	synctest.Test(t, func(t *testing.T) {
		// The first event is late: after one keep-alive interval the stream is
		// committed (header, role chunk), a comment keeps it open, and the error
		// that follows is an error event, then [DONE].
		src := &slowSource{
			events: []realtime.Event{{Text: "x = 1"}, {Err: realtime.NewError(realtime.CodeModelError, "")}},
			delays: []time.Duration{40 * time.Second, time.Second},
		}
		status, body := openAIRelayTo(t, db, src, false)
		if status != 200 {
			t.Fatalf("status %d", status)
		}
		for _, want := range []string{`"delta":{"role":"assistant","content":""}`, ": keep-alive\n\n", `"delta":{"content":"x = 1"}`,
			`data: {"error":{"message":"AI model returned an error","type":"server_error","param":null,"code":"model_error","hapa_code":"E5006"}}`,
			"data: [DONE]\n\n"} {
			if !strings.Contains(body, want) {
				t.Errorf("missing %q in\n%s", want, body)
			}
		}
		if !src.closed.Load() {
			t.Error("source not closed")
		}
	})
	synctest.Test(t, func(t *testing.T) {
		// An error as the first event, within the interval: a real status.
		src := &slowSource{events: []realtime.Event{{Err: realtime.NewError(realtime.CodeModelTimeout, "")}}, delays: []time.Duration{time.Second}}
		status, body := openAIRelayTo(t, db, src, true)
		if status != 504 || !strings.Contains(body, `"code":"timeout"`) || strings.Contains(body, "data:") {
			t.Errorf("status %d body %s", status, body)
		}
	})
}

// A non-streaming request whose stream ends without a terminal event (io.EOF from a
// closed source) gets a real error, not an empty 200.
func TestOpenAIOneShotStreamEndedWithoutTerminal(t *testing.T) {
	db := openDB(t)
	srv, err := New(Config{}, Deps{DB: db, Auth: newAuth(t, db)})
	if err != nil {
		t.Fatal(err)
	}
	src := &slowSource{} // no events: Next returns io.EOF at once
	w := httptest.NewRecorder()
	r := httptest.NewRequest("POST", "/v1/chat/completions", nil)
	srv.openAIOneShot(w, r, src, newOpenAIFormat(true, "hapa-generate", 1))
	if w.Code != 500 || !strings.Contains(w.Body.String(), `"hapa_code":"`+string(realtime.CodeInternal)+`"`) || !src.closed.Load() {
		t.Fatalf("status %d body %s (closed %v)", w.Code, w.Body.String(), src.closed.Load())
	}
}
