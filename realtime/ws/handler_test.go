package ws

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/coder/websocket"

	"github.com/hapa-project/hapa/auth"
	"github.com/hapa-project/hapa/realtime/ws/wsclient"
)

func TestUpgradeRefusals(t *testing.T) {
	w := newWSHarness(t, wsOpt{cfg: Config{AllowedOrigins: []string{"https://app.example.com", "http://localhost:*"}}})
	good := w.auth.key("good")
	revoked := w.auth.key("revoked")
	w.auth.revoke(w.auth.add("revoked").KeyID)
	tests := []struct {
		name   string
		header http.Header
		proto  []string
		status int
		code   string
	}{
		{name: "no key", proto: []string{Protocol}, status: 401, code: "E4003"},
		{name: "unknown key", header: http.Header{"X-Api-Key": {"nope"}}, proto: []string{Protocol}, status: 401, code: "E4003"},
		{name: "revoked key", header: http.Header{"Authorization": {"Bearer " + revoked}}, proto: []string{Protocol}, status: 401, code: "E4007"},
		{name: "origin not allowed", header: http.Header{"X-Api-Key": {good}, "Origin": {"https://evil.example"}}, proto: []string{Protocol}, status: 403, code: "E4013"},
		{name: "origin scheme must match", header: http.Header{"X-Api-Key": {good}, "Origin": {"http://app.example.com"}}, proto: []string{Protocol}, status: 403, code: "E4013"},
		{name: "no hapa.v1", header: http.Header{"X-Api-Key": {good}}, proto: []string{"chat"}, status: 400, code: "E4001"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, resp, err := websocket.Dial(testCtx(t), w.url, &websocket.DialOptions{HTTPClient: w.srv.Client(), HTTPHeader: tt.header, Subprotocols: tt.proto})
			if err == nil {
				t.Fatal("upgrade succeeded")
			}
			if resp == nil || resp.StatusCode != tt.status {
				t.Fatalf("resp %v, want %d", resp, tt.status)
			}
			var body map[string]any
			if err := json.NewDecoder(resp.Body).Decode(&body); err != nil {
				t.Fatal(err)
			}
			for _, f := range []string{"detail", "message", "error_message", "timestamp"} {
				if _, ok := body[f]; !ok {
					t.Errorf("body lacks %s: %v", f, body)
				}
			}
			if body["error_code"] != tt.code || body["status"] != "error" || body["path"] != "/api/v1/realtime" {
				t.Errorf("body = %v", body)
			}
		})
	}
	t.Run("allowed origins", func(t *testing.T) {
		for _, o := range []string{"https://app.example.com", "http://localhost:5173", ""} {
			h := http.Header{}
			if o != "" {
				h.Set("Origin", o)
			}
			c, err := wsclient.Dial(testCtx(t), w.url, good, &wsclient.Options{HTTPClient: w.srv.Client(), Header: h})
			if err != nil {
				t.Fatalf("origin %q: %v", o, err)
			}
			_ = c.Close()
		}
	})
	t.Run("browser subprotocol auth is never echoed", func(t *testing.T) {
		conn, resp, err := websocket.Dial(testCtx(t), w.url, &websocket.DialOptions{HTTPClient: w.srv.Client(),
			Subprotocols: []string{Protocol, auth.SubprotocolPrefix + good}})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.CloseNow()
		if conn.Subprotocol() != Protocol || strings.Contains(resp.Header.Get("Sec-WebSocket-Protocol"), good) {
			t.Fatalf("selected %q, header %q", conn.Subprotocol(), resp.Header.Get("Sec-WebSocket-Protocol"))
		}
		_ = conn.Close(websocket.StatusNormalClosure, "")
	})
	t.Run("browser client helper", func(t *testing.T) {
		c, err := wsclient.Dial(testCtx(t), w.url, good, &wsclient.Options{HTTPClient: w.srv.Client(), BrowserAuth: true})
		if err != nil {
			t.Fatal(err)
		}
		_ = c.Close()
	})
	t.Run("dial error carries the status", func(t *testing.T) {
		_, err := wsclient.Dial(testCtx(t), w.url, "nope", &wsclient.Options{HTTPClient: w.srv.Client()})
		var de *wsclient.DialError
		if !errors.As(err, &de) || de.Status != 401 {
			t.Fatalf("err = %v", err)
		}
	})
}

func TestOriginAllowed(t *testing.T) {
	pats := []string{"https://app.example.com", "https://*.hapa.dev", "vscode-webview.local", "http://localhost:*"}
	tests := []struct {
		origin, host string
		want         bool
	}{
		{"", "gw:8000", true},
		{"https://app.example.com", "gw:8000", true},
		{"HTTPS://APP.EXAMPLE.COM", "gw:8000", true},
		{"http://app.example.com", "gw:8000", false},
		{"https://a.hapa.dev", "gw:8000", true},
		{"https://hapa.dev.evil.com", "gw:8000", false},
		{"http://localhost:3000", "gw:8000", true},
		{"vscode-webview://vscode-webview.local", "gw:8000", true},
		{"http://gw:8000", "gw:8000", false},                 // same host proves nothing (DNS rebinding)
		{"http://localhost:8000", "localhost:8000", true},    // loopback names: development
		{"http://127.0.0.1:8000", "127.0.0.1:8000", true},    // loopback names: development
		{"http://localhost:9000", "evil.example:8000", true}, // by the pattern http://localhost:*
		{"null", "gw:8000", false},
		{"https://evil.com", "gw:8000", false},
	}
	for _, tt := range tests {
		r := httptest.NewRequest("GET", "http://"+tt.host+"/api/v1/realtime", nil)
		if tt.origin != "" {
			r.Header.Set("Origin", tt.origin)
		}
		if got := originAllowed(r, pats); got != tt.want {
			t.Errorf("origin %q: %v, want %v", tt.origin, got, tt.want)
		}
	}
	r := httptest.NewRequest("GET", "http://gw/", nil)
	r.Header.Set("Origin", "https://any.where")
	if !originAllowed(r, []string{"*"}) {
		t.Error(`"*" must allow any origin`)
	}
}
