package ws

import (
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hapa-project/hapa/vllm/sim"
)

// TestTranscript runs one real session (engine + simulator) through the main events
// and checks the order of frames. With HAPA_TRANSCRIPT=<file> it writes the frames
// (→ client, ← server) to that file; docs/protocol.md quotes it.
func TestTranscript(t *testing.T) {
	w := newWSHarness(t, wsOpt{cfg: Config{ServerVersion: "0.1.0"}, sim: sim.Config{Seed: 7, ITL: 2 * time.Millisecond}})
	w.auth.add("hapa_demo_key")
	ctx := testCtx(t)
	conn, _, err := websocket.Dial(ctx, w.url, &websocket.DialOptions{HTTPClient: w.srv.Client(),
		HTTPHeader: http.Header{"X-Api-Key": {"hapa_demo_key"}}, Subprotocols: []string{Protocol}})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.CloseNow()
	var log strings.Builder
	recv := func() map[string]any {
		t.Helper()
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		log.WriteString("← " + string(b) + "\n")
		var m map[string]any
		_ = json.Unmarshal(b, &m)
		return m
	}
	send := func(s string) {
		t.Helper()
		log.WriteString("→ " + s + "\n")
		if err := conn.Write(ctx, websocket.MessageText, []byte(s)); err != nil {
			t.Fatal(err)
		}
	}
	until := func(typ, id string) map[string]any {
		t.Helper()
		for {
			m := recv()
			if m["type"] == typ && (id == "" || m["id"] == id) {
				return m
			}
			if m["type"] == "stream.error" {
				t.Fatalf("unexpected %v", m)
			}
		}
	}
	if m := recv(); m["type"] != "session.created" {
		t.Fatalf("first frame %v", m)
	}
	send(`{"type":"session.update","event_id":"u1","workspace":"/home/ada/projects/inventory","editor":{"name":"vscode","version":"1.96.2"},"profile":{"pythonSkillLevel":"advanced","codeOutputStructure":"minimal"}}`)
	until("session.updated", "")
	send(`{"type":"completion.create","id":"c1","prefix":"def total_price(items):\n    ","suffix":"\n","language":"python","file_path":"inventory/pricing.py","max_tokens":24}`)
	until("stream.done", "c1")
	send(`{"type":"generation.create","id":"g1","prompt":"Write a function that validates an email address","model_type":"code_generation","max_tokens":48}`)
	until("stream.done", "g1")
	send(`{"type":"generation.create","id":"g2","prompt":"Explain this function in detail","model_type":"code_explanation","context":"def f(x): return x * 2","max_tokens":400,"temperature":0.9}`)
	until("stream.delta", "g2")
	send(`{"type":"stream.cancel","id":"g2"}`)
	if m := until("stream.done", "g2"); m["finish_reason"] != "cancelled" {
		t.Fatalf("cancel: %v", m)
	}
	send(`{"type":"completion.create","event_id":"e7","prefix":"x = "}`)
	if m := until("error", ""); m["event_id"] != "e7" {
		t.Fatalf("missing id: %v", m)
	}
	send(`{"type":"ping","event_id":"p1"}`)
	until("pong", "")
	_ = conn.Close(websocket.StatusNormalClosure, "bye")
	log.WriteString("→ close 1000 \"bye\"\n")
	if p := os.Getenv("HAPA_TRANSCRIPT"); p != "" {
		if err := os.WriteFile(p, []byte(log.String()), 0o644); err != nil {
			t.Fatal(err)
		}
	}
}
