package ws

import (
	"context"
	"encoding/binary"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// The idle-socket session layer (session.go, session_read.go,
// sendqueue.go): wake-ups that must not be lost and the read buffer shared with the
// close handshake.

// A close request (poke) that reaches a writer which is about to end must not be lost:
// the writer checks closeReq only at the top of its loop, so takeOrPark must keep it
// running when a poke arrived meanwhile.
func TestSendQueuePokeReachesEndingWriter(t *testing.T) {
	var started atomic.Int32
	var q *sendQueue
	q = newSendQueue(4, func() { started.Add(1); q.writers.Done() })
	q.poke() // starts a writer; it stays "running" until takeOrPark says it ends
	waitUntil(t, "writer started", func() bool { return started.Load() == 1 })
	// The writer has checked closeReq (not closed yet) and is on its way to takeOrPark
	// when closeWith closes closeReq and pokes.
	q.poke()
	if _, wait := q.takeOrPark(nil); !wait && started.Load() == 1 {
		t.Fatal("takeOrPark ended the writer although a poke arrived: the close request is lost")
	}
}

// Shutdown of many idle (parked) sockets: session.closing starts a writer per socket,
// and the 1012 close request follows at once, while those writers end. Every socket
// must get its 1012 and Shutdown must return nil well before its deadline.
func TestShutdownClosesEveryParkedSocket(t *testing.T) {
	needPoller(t)
	w := newWSHarness(t, wsOpt{cfg: Config{MaxConnsPerKey: -1}})
	const n = 60
	socks := make([]*rawSocket, n)
	for i := range socks {
		socks[i] = dialRaw(t, w, "key-shutdown", nil)
	}
	waitUntil(t, "readers parked", func() bool { return w.hub.Stats().Sessions == n && w.hub.readers.Load() == 0 })
	var got1012 atomic.Int32
	var wg sync.WaitGroup
	for _, s := range socks {
		wg.Add(1)
		go func() { // read to the close frame and answer it
			defer wg.Done()
			_ = s.c.SetReadDeadline(time.Now().Add(10 * time.Second))
			for {
				op, p, err := readServerFrame(s.br)
				if err != nil {
					return
				}
				if op == 0x8 {
					if len(p) >= 2 && binary.BigEndian.Uint16(p) == uint16(websocket.StatusServiceRestart) {
						got1012.Add(1)
					}
					_, _ = s.c.Write(clientFrame(0x8, p[:min(len(p), 2)]))
					return
				}
			}
		}()
	}
	ctx, cancel := context.WithTimeout(context.Background(), 1500*time.Millisecond)
	defer cancel()
	if err := w.hub.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v (sessions left %d)", err, w.hub.Stats().Sessions)
	}
	wg.Wait()
	if g := got1012.Load(); g != n {
		t.Fatalf("%d of %d sockets got close 1012", g, n)
	}
}

// A frame-rate violation closes with 1008 from the writer while the reader goes on
// reading: the close handshake reads the read buffer, so the reader may look into it
// (park, skipPong) only under peekMu. The client sends more frames after the
// violating one, so the reader is still at them when the handshake starts. Run with
// -race.
func TestViolationCloseDoesNotRaceReadBuffer(t *testing.T) {
	needPoller(t)
	for range 5 {
		w := newWSHarness(t, wsOpt{cfg: Config{FrameRate: 1, FrameBurst: 1}})
		s := dialRaw(t, w, "key-flood", nil)
		var flood []byte
		for range 60 { // ok, rejected (notified), violation, and more the reader goes on with
			flood = append(flood, clientFrame(0x1, []byte(`{"type":"ping","event_id":"f"}`))...)
		}
		if _, err := s.c.Write(flood); err != nil {
			t.Fatal(err)
		}
		_ = s.c.SetReadDeadline(time.Now().Add(5 * time.Second))
		for {
			op, p, err := readServerFrame(s.br)
			if err != nil {
				t.Fatalf("read: %v", err)
			}
			if op != 0x8 {
				continue
			}
			if len(p) < 2 || binary.BigEndian.Uint16(p) != uint16(websocket.StatusPolicyViolation) {
				t.Fatalf("close %q, want 1008", p)
			}
			time.Sleep(20 * time.Millisecond) // the handshake reads the read buffer meanwhile
			_, _ = s.c.Write(clientFrame(0x8, p[:2]))
			break
		}
		waitUntil(t, "session ended", func() bool { return w.hub.Stats().Sessions == 0 })
	}
}
