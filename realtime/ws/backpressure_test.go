package ws

import (
	"context"
	"encoding/json"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/realtime/ws/wsclient"
	"github.com/hapa-project/hapa/vllm/sim"
)

// rawDial opens a plain coder/websocket client whose socket has a tiny receive buffer,
// so that a client that reads slowly (or not at all) pushes back on the server at once.
func rawDial(t *testing.T, w *wsHarness, name string) *websocket.Conn {
	t.Helper()
	key := w.auth.key(name)
	d := &net.Dialer{Control: nil}
	tr := &http.Transport{DialContext: func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := d.DialContext(ctx, network, addr)
		if tc, ok := c.(*net.TCPConn); ok {
			_ = tc.SetReadBuffer(4096)
		}
		return c, err
	}}
	t.Cleanup(tr.CloseIdleConnections)
	conn, _, err := websocket.Dial(testCtx(t), w.url, &websocket.DialOptions{HTTPClient: &http.Client{Transport: tr},
		HTTPHeader: http.Header{"X-Api-Key": {key}}, Subprotocols: []string{Protocol}})
	if err != nil {
		t.Fatal(err)
	}
	conn.SetReadLimit(1 << 20)
	t.Cleanup(func() { _ = conn.CloseNow() })
	return conn
}

func TestSlowReaderGetsMergedDeltas(t *testing.T) {
	src := &fakeSource{piece: "tok ", n: 20000}
	w := newWSHarness(t, wsOpt{smallBufs: true, fake: func(realtime.Request) eventSource { return src }})
	conn := rawDial(t, w, "key-a")
	ctx := testCtx(t)
	b, _ := json.Marshal(map[string]any{"type": "generation.create", "id": "g", "prompt": "x"})
	if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	var text strings.Builder
	var seq int64
	for {
		time.Sleep(200 * time.Microsecond) // a reader slower than the model
		_, b, err := conn.Read(ctx)
		if err != nil {
			t.Fatal(err)
		}
		var ev wsclient.Event
		if err := json.Unmarshal(b, &ev); err != nil {
			t.Fatal(err)
		}
		if ev.Type == "stream.delta" {
			if ev.Seq != seq+1 {
				t.Fatalf("seq %d after %d", ev.Seq, seq)
			}
			seq = ev.Seq
			text.WriteString(ev.Text)
		}
		if ev.Type == "stream.done" {
			break
		}
	}
	if text.String() != strings.Repeat("tok ", 20000) {
		t.Fatalf("text of %d bytes, want %d", text.Len(), 4*20000)
	}
	if seq >= 20000 {
		t.Fatalf("%d delta frames for 20000 pieces: nothing merged", seq)
	}
	t.Logf("20000 upstream pieces arrived in %d frames", seq)
	if src.closed.Load() != 1 {
		t.Errorf("source closed %d times", src.closed.Load())
	}
}

func TestSlowConsumerClosed4008(t *testing.T) {
	src := &fakeSource{piece: strings.Repeat("x", 512), endless: true}
	w := newWSHarness(t, wsOpt{cfg: Config{WriteTimeout: 150 * time.Millisecond}, smallBufs: true, sim: sim.Config{ITL: time.Millisecond},
		fake: func(r realtime.Request) eventSource {
			if r.Prompt == "flood" {
				return src
			}
			return nil
		}})
	conn := rawDial(t, w, "key-slow")
	ctx := testCtx(t)
	b, _ := json.Marshal(map[string]any{"type": "generation.create", "id": "g", "prompt": "flood"})
	if err := conn.Write(ctx, websocket.MessageText, b); err != nil {
		t.Fatal(err)
	}
	// The client never reads. Meanwhile another socket works normally.
	other := w.dial(t, "key-fast")
	s, _ := other.Generate(ctx, wsclient.GenerationCreate{Prompt: "unaffected", MaxTokens: 20})
	if r, err := s.Collect(ctx); err != nil || r.Done == nil {
		t.Fatalf("other socket: %v %+v", err, r.Err)
	}
	waitUntil(t, "slow consumer close", func() bool { return w.obs.closed(CloseSlowConsumer) == 1 })
	waitUntil(t, "stream cancelled", func() bool { return src.closed.Load() == 1 })
	waitUntil(t, "session gone", func() bool { return w.hub.Stats().Sessions == 1 })
	if err := other.Ping(ctx); err != nil {
		t.Fatalf("other socket after the close: %v", err)
	}
	// Reading now drains what the kernel buffered, then the socket ends.
	for {
		if _, _, err := conn.Read(ctx); err != nil {
			break
		}
	}
}

func TestPongTimeoutDropsHalfOpenSocket(t *testing.T) {
	w := newWSHarness(t, wsOpt{cfg: Config{PingInterval: 20 * time.Millisecond, PongTimeout: 40 * time.Millisecond}})
	conn := rawDial(t, w, "key-a") // never reads: pings stay unanswered, like a dead peer
	_ = conn
	waitUntil(t, "session dropped", func() bool { return w.obs.closed(int(websocket.StatusAbnormalClosure)) == 1 })
	waitUntil(t, "hub empty", func() bool { return w.hub.Stats().Sessions == 0 })
}

func TestKeepaliveAnsweredKeepsSocket(t *testing.T) {
	w := newWSHarness(t, wsOpt{cfg: Config{PingInterval: 10 * time.Millisecond, PongTimeout: 5 * time.Second}})
	c := w.dial(t, "key-a") // wsclient always reads, so pongs go back
	time.Sleep(100 * time.Millisecond)
	if err := c.Ping(testCtx(t)); err != nil {
		t.Fatalf("socket closed despite pongs: %v", err)
	}
}
