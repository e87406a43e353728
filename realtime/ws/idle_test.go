package ws

import (
	"bufio"
	"encoding/binary"
	"fmt"
	"io"
	"net"
	"net/url"
	"runtime"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/hapa-project/hapa/realtime"
)

// Tests of the idle-socket design: parked readers, the writer on demand, pongs taken
// out of the read buffer, early bytes (session.go, session_read.go, wsconn.go).

func needPoller(t *testing.T) {
	t.Helper()
	if sharedPoller() == nil {
		t.Skip("no read poller on this platform: readers block instead")
	}
}

// clientFrame encodes one masked client frame.
func clientFrame(opcode byte, payload []byte) []byte {
	mask := [4]byte{0x1f, 0x2e, 0x3d, 0x4c}
	b := []byte{0x80 | opcode}
	switch n := len(payload); {
	case n < 126:
		b = append(b, 0x80|byte(n))
	default:
		b = append(b, 0x80|126, byte(n>>8), byte(n))
	}
	b = append(b, mask[:]...)
	for i, c := range payload {
		b = append(b, c^mask[i%4])
	}
	return b
}

// readServerFrame reads one unmasked server frame.
func readServerFrame(br *bufio.Reader) (opcode byte, payload []byte, err error) {
	var h [2]byte
	if _, err = io.ReadFull(br, h[:]); err != nil {
		return 0, nil, err
	}
	n := int(h[1] & 0x7f)
	switch n {
	case 126:
		var ext [2]byte
		if _, err = io.ReadFull(br, ext[:]); err != nil {
			return 0, nil, err
		}
		n = int(binary.BigEndian.Uint16(ext[:]))
	case 127:
		var ext [8]byte
		if _, err = io.ReadFull(br, ext[:]); err != nil {
			return 0, nil, err
		}
		n = int(binary.BigEndian.Uint64(ext[:]))
	}
	payload = make([]byte, n)
	_, err = io.ReadFull(br, payload)
	return h[0] & 0x0f, payload, err
}

// rawSocket is a hand-made client socket: the handshake, then frames by hand.
type rawSocket struct {
	c  net.Conn
	br *bufio.Reader
}

func dialRaw(t *testing.T, w *wsHarness, name string, early []byte) *rawSocket {
	t.Helper()
	key := w.auth.key(name)
	u, _ := url.Parse(w.srv.URL)
	c, err := net.Dial("tcp", u.Host)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	req := fmt.Sprintf("GET /api/v1/realtime HTTP/1.1\r\nHost: %s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"+
		"Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"+
		"Sec-WebSocket-Protocol: hapa.v1\r\nX-API-Key: %s\r\n\r\n", u.Host, key)
	if _, err := c.Write(append([]byte(req), early...)); err != nil { // one write: early bytes arrive with the handshake
		t.Fatal(err)
	}
	br := bufio.NewReader(c)
	for {
		l, err := br.ReadString('\n')
		if err != nil {
			t.Fatal(err)
		}
		if l == "\r\n" {
			break
		}
	}
	s := &rawSocket{c: c, br: br}
	if op, p, err := readServerFrame(br); err != nil || op != 1 || !strings.Contains(string(p), `"session.created"`) {
		t.Fatalf("first frame: op %d %q %v", op, p, err)
	}
	return s
}

// next returns the next text frame, answering pings on the way when pong is set.
func (s *rawSocket) next(t *testing.T, pong bool, pings *atomic.Int64) string {
	t.Helper()
	_ = s.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	for {
		op, p, err := readServerFrame(s.br)
		if err != nil {
			t.Fatalf("read: %v", err)
		}
		switch op {
		case 0x9:
			if pings != nil {
				pings.Add(1)
			}
			if pong {
				if _, err := s.c.Write(clientFrame(0xA, p)); err != nil {
					t.Fatalf("pong: %v", err)
				}
			}
		case 0x1:
			return string(p)
		default:
			t.Fatalf("unexpected opcode %d: %q", op, p)
		}
	}
}

func TestIdleSocketsHoldNoGoroutine(t *testing.T) {
	needPoller(t)
	w := newWSHarness(t, wsOpt{cfg: Config{MaxConnsPerKey: -1}})
	base := runtime.NumGoroutine()
	const n = 40
	socks := make([]*rawSocket, n)
	for i := range socks {
		socks[i] = dialRaw(t, w, "key-idle", nil)
	}
	waitUntil(t, "all sessions", func() bool { return w.hub.Stats().Sessions == n })
	waitUntil(t, "readers parked", func() bool { return w.hub.readers.Load() == 0 })
	// Readers park, writers end once session.created is written, timers hold none.
	waitUntil(t, "goroutines back to the base", func() bool { return runtime.NumGoroutine()-base < n/4 })
	// A parked socket still serves: the poller resumes its reader.
	for i, s := range socks {
		ev := fmt.Sprintf(`{"type":"ping","event_id":"e%d"}`, i)
		if _, err := s.c.Write(clientFrame(0x1, []byte(ev))); err != nil {
			t.Fatal(err)
		}
		if got := s.next(t, false, nil); !strings.Contains(got, `"pong"`) || !strings.Contains(got, fmt.Sprintf(`"e%d"`, i)) {
			t.Fatalf("socket %d: got %s, want its pong", i, got)
		}
	}
	waitUntil(t, "parked again", func() bool { return runtime.NumGoroutine()-base < n/4 })
}

func TestParkedSocketKeepaliveTakesPongs(t *testing.T) {
	needPoller(t)
	w := newWSHarness(t, wsOpt{cfg: Config{PingInterval: 20 * time.Millisecond, PongTimeout: 60 * time.Millisecond}})
	s := dialRaw(t, w, "key-pong", nil)
	var pings atomic.Int64
	done := make(chan struct{})
	go func() { // answer every ping for 400 ms (20 pings); the socket must stay open
		defer close(done)
		_ = s.c.SetReadDeadline(time.Now().Add(400 * time.Millisecond))
		for {
			op, p, err := readServerFrame(s.br)
			if err != nil {
				return
			}
			if op == 0x9 {
				pings.Add(1)
				_, _ = s.c.Write(clientFrame(0xA, p))
			}
		}
	}()
	<-done
	// The pongs were taken out of the read buffer, not read by a Read that then blocks.
	waitUntil(t, "no reader running on the idle socket", func() bool { return w.hub.readers.Load() == 0 })
	if got := pings.Load(); got < 5 {
		t.Fatalf("%d pings in 400 ms at a 20 ms interval", got)
	}
	if w.hub.Stats().Sessions != 1 || w.obs.closed(int(websocket.StatusAbnormalClosure)) != 0 {
		t.Fatalf("socket dropped although every ping was answered (sessions %d)", w.hub.Stats().Sessions)
	}
	// Frames still flow after all those pongs went through the read buffer.
	if _, err := s.c.Write(clientFrame(0x1, []byte(`{"type":"ping","event_id":"after"}`))); err != nil {
		t.Fatal(err)
	}
	_ = s.c.SetReadDeadline(time.Time{})
	if got := s.next(t, true, nil); !strings.Contains(got, `"after"`) {
		t.Fatalf("got %s, want the pong of event after", got)
	}
	// Silence is a dead peer: no pong within PongTimeout drops the socket.
	waitUntil(t, "dropped without pongs", func() bool { return w.obs.closed(int(websocket.StatusAbnormalClosure)) == 1 })
}

func TestFrameSentWithTheHandshakeIsRead(t *testing.T) {
	w := newWSHarness(t, wsOpt{})
	early := append(clientFrame(0x1, []byte(`{"type":"ping","event_id":"early-1"}`)),
		clientFrame(0x1, []byte(`{"type":"ping","event_id":"early-2"}`))...)
	s := dialRaw(t, w, "key-early", early)
	for _, id := range []string{"early-1", "early-2"} {
		if got := s.next(t, true, nil); !strings.Contains(got, id) {
			t.Fatalf("got %s, want the pong of %s", got, id)
		}
	}
	// And later frames still arrive (this socket reads without parking).
	if _, err := s.c.Write(clientFrame(0x1, []byte(`{"type":"ping","event_id":"late"}`))); err != nil {
		t.Fatal(err)
	}
	if got := s.next(t, true, nil); !strings.Contains(got, "late") {
		t.Fatalf("got %s, want the pong of late", got)
	}
}

func TestRevokeClosesParkedSocket(t *testing.T) {
	needPoller(t)
	w := newWSHarness(t, wsOpt{})
	s := dialRaw(t, w, "key-revoke", nil)
	time.Sleep(50 * time.Millisecond) // the reader parks
	caller := w.auth.add("key-revoke")
	if n := w.hub.CloseKey(caller.KeyID, realtime.CodeKeyRevoked, ""); n != 1 {
		t.Fatalf("CloseKey closed %d sockets, want 1", n)
	}
	_ = s.c.SetReadDeadline(time.Now().Add(5 * time.Second))
	op, p, err := readServerFrame(s.br)
	if err != nil || op != 0x8 || len(p) < 2 || binary.BigEndian.Uint16(p) != CloseAuthRevoked {
		t.Fatalf("got op %d %q %v, want close 4001", op, p, err)
	}
	_, _ = s.c.Write(clientFrame(0x8, p[:2])) // complete the handshake
	waitUntil(t, "session ended", func() bool { return w.hub.Stats().Sessions == 0 })
}
