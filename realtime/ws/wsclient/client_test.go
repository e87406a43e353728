package wsclient

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"go.uber.org/goleak"
)

func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m, goleak.IgnoreAnyFunction("github.com/hapa-project/hapa/realtime.(*readPoller).loop"))
}

// scripted serves session.created, waits for one client frame, then sends frames as
// given and closes normally. It checks the handshake the client sends.
func scripted(t *testing.T, frames ...string) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-API-Key") != "k" {
			http.Error(w, `{"error_code":"E4003"}`, http.StatusUnauthorized)
			return
		}
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"hapa.v1"}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		ctx := r.Context()
		_ = c.Write(ctx, websocket.MessageText, []byte(`{"type":"session.created","session_id":"ses_1","protocol":"hapa.v1","limits":{"max_streams":8}}`))
		if _, _, err := c.Read(ctx); err != nil {
			return
		}
		for _, f := range frames {
			_ = c.Write(ctx, websocket.MessageText, []byte(f))
		}
		_ = c.Close(websocket.StatusNormalClosure, "")
	}))
	t.Cleanup(srv.Close)
	return "ws" + strings.TrimPrefix(srv.URL, "http")
}

func TestCollect(t *testing.T) {
	tests := []struct {
		name    string
		frames  []string
		text    string
		wantErr string
		errCode string
	}{
		{name: "complete", text: "ab", frames: []string{
			`{"type":"stream.started","id":"g1","kind":"generation"}`,
			`{"type":"stream.delta","id":"g1","seq":1,"text":"a"}`,
			`{"type":"stream.delta","id":"g1","seq":2,"text":"b"}`,
			`{"type":"stream.done","id":"g1","finish_reason":"stop","usage":{"completion_tokens":2}}`}},
		{name: "seq gap", wantErr: "seq 3 after 1", frames: []string{
			`{"type":"stream.started","id":"g1"}`,
			`{"type":"stream.delta","id":"g1","seq":1,"text":"a"}`,
			`{"type":"stream.delta","id":"g1","seq":3,"text":"c"}`}},
		{name: "delta before started", wantErr: "delta before stream.started", frames: []string{
			`{"type":"stream.delta","id":"g1","seq":1,"text":"a"}`}},
		{name: "refused", errCode: "E4014", frames: []string{
			`{"type":"stream.error","id":"g1","error":{"code":"E4014","message":"too many","retryable":true}}`}},
		{name: "socket ends first", wantErr: "StatusNormalClosure", frames: []string{
			`{"type":"stream.started","id":"g1"}`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			defer cancel()
			c, err := Dial(ctx, scripted(t, tt.frames...), "k", nil)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if c.Session().SessionID != "ses_1" || c.Session().Limits.MaxStreams != 8 {
				t.Fatalf("session %+v", c.Session())
			}
			s, err := c.Generate(ctx, GenerationCreate{Prompt: "x"})
			if err != nil || s.ID != "g1" {
				t.Fatalf("Generate: %v id %q", err, s.ID)
			}
			r, err := s.Collect(ctx)
			switch {
			case tt.wantErr != "":
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
			case err != nil:
				t.Fatal(err)
			case tt.errCode != "":
				if r.Err == nil || r.Err.Code != tt.errCode || !r.Err.Retryable {
					t.Fatalf("r.Err = %+v", r.Err)
				}
			default:
				if r.Text != tt.text || r.Done == nil || r.Deltas != 2 || r.Done.Usage.CompletionTokens != 2 {
					t.Fatalf("result %+v", r)
				}
			}
		})
	}
}

func TestDialRefused(t *testing.T) {
	_, err := Dial(context.Background(), scripted(t), "wrong", nil)
	de, ok := err.(*DialError)
	if !ok || de.Status != http.StatusUnauthorized {
		t.Fatalf("err = %v", err)
	}
}
