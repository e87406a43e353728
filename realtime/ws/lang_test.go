package ws

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"

	"github.com/coder/websocket"

	"github.com/hapa-project/hapa/realtime/ws/wsclient"
	"github.com/hapa-project/hapa/vllm/sim"
)

// TestSocketLanguage: the socket's error and stream.error frames speak the upgrade
// request's Accept-Language (Korean here), a socket without one English; so does the
// JSON refusal of an upgrade.
func TestSocketLanguage(t *testing.T) {
	w := newWSHarness(t, wsOpt{sim: sim.Config{}})
	key := w.auth.key("good")
	ctx := testCtx(t)
	for lang, want := range map[string]struct{ bad, lang string }{
		"ko-KR,ko;q=0.9": {"잘못된 입력 형식입니다 (", "지원하지 않는 언어입니다 (language: unknown language \"cobol\")"},
		"":               {"frame is not a JSON object", "language: unknown language \"cobol\""},
	} {
		h := http.Header{}
		if lang != "" {
			h.Set("Accept-Language", lang)
		}
		c, err := wsclient.Dial(ctx, w.url, key, &wsclient.Options{HTTPClient: w.srv.Client(), Header: h})
		if err != nil {
			t.Fatal(err)
		}
		if err := c.SendRaw(ctx, false, []byte("hello")); err != nil {
			t.Fatal(err)
		}
		select {
		case ev := <-c.Events():
			if ev.Error == nil || ev.Error.Code != "E4001" || !startsWith(ev.Error.Message, want.bad) {
				t.Errorf("%q: error frame %+v, want a message starting %q", lang, ev.Error, want.bad)
			}
		case <-ctx.Done():
			t.Fatal("no error frame")
		}
		s, _ := c.Generate(ctx, wsclient.GenerationCreate{Prompt: "x", Language: "cobol"})
		if r, err := s.Collect(ctx); err != nil || r.Err == nil || r.Err.Code != "E4009" || !startsWith(r.Err.Message, want.lang) {
			t.Errorf("%q: stream.error %v %+v, want %q", lang, err, r.Err, want.lang)
		}
		_ = c.Close()
	}
	_, resp, err := websocket.Dial(ctx, w.url, &websocket.DialOptions{HTTPClient: w.srv.Client(),
		HTTPHeader: http.Header{"X-Api-Key": {"nope"}, "Accept-Language": {"ko"}}, Subprotocols: []string{Protocol}})
	if err == nil || resp == nil {
		t.Fatal("a bad key must be refused")
	}
	b, _ := io.ReadAll(resp.Body)
	var body map[string]string
	_ = json.Unmarshal(b, &body)
	if body["error_code"] != "E4003" || !startsWith(body["detail"], "API 키가 없거나 유효하지 않습니다") || body["recovery_hint"] == "" {
		t.Errorf("refusal in Korean: %s", b)
	}
}

func startsWith(s, prefix string) bool { return len(s) >= len(prefix) && s[:len(prefix)] == prefix }
