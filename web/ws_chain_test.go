package web

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// TestWebSocketBehindMiddleware checks that Deps.Realtime can upgrade through every
// middleware (the writers forward Hijack) and that a long-lived connection outlives the
// body read deadline.
func TestWebSocketBehindMiddleware(t *testing.T) {
	echo := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"hapa.v1"}})
		if err != nil {
			return
		}
		defer c.CloseNow()
		for {
			typ, b, err := c.Read(r.Context())
			if err != nil {
				return
			}
			if err := c.Write(r.Context(), typ, b); err != nil {
				return
			}
		}
	})
	env := newEnv(t, func(c *Config, d *Deps) { d.Realtime = echo; c.BodyReadTimeout = 50 * time.Millisecond })
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	url := "ws" + strings.TrimPrefix(env.ts.URL, "http") + "/api/v1/realtime"
	c, res, err := websocket.Dial(ctx, url, &websocket.DialOptions{Subprotocols: []string{"hapa.v1"}})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.CloseNow()
	if res.Header.Get("X-Request-ID") == "" || c.Subprotocol() != "hapa.v1" {
		t.Errorf("upgrade response: request id %q, subprotocol %q", res.Header.Get("X-Request-ID"), c.Subprotocol())
	}
	for i := range 2 {
		if err := c.Write(ctx, websocket.MessageText, []byte(`{"type":"ping"}`)); err != nil {
			t.Fatal(err)
		}
		if _, b, err := c.Read(ctx); err != nil || string(b) != `{"type":"ping"}` {
			t.Fatalf("echo %d: %q %v", i, b, err)
		}
		time.Sleep(100 * time.Millisecond) // past BodyReadTimeout: the connection must live on
	}
	c.Close(websocket.StatusNormalClosure, "")
}
