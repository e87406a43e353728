package ws

import (
	"net"
	"syscall"
	"testing"
	"time"
)

func tcpPair(t *testing.T) (server, client net.Conn) {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	client, err = net.Dial("tcp", ln.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	server, err = ln.Accept()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = server.Close(); _ = client.Close() })
	return server, client
}

func TestReadPollerWakesOnceAndCancels(t *testing.T) {
	p := sharedPoller()
	if p == nil {
		t.Skip("no read poller on this platform")
	}
	server, client := tcpPair(t)
	rc, err := server.(syscall.Conn).SyscallConn()
	if err != nil {
		t.Fatal(err)
	}
	woke := make(chan struct{}, 4)
	wake := func() { woke <- struct{}{} }
	if _, err := p.park(rc, true, wake); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woke:
		t.Fatal("woke with nothing to read")
	case <-time.After(30 * time.Millisecond):
	}
	if _, err := client.Write([]byte("x")); err != nil {
		t.Fatal(err)
	}
	select {
	case <-woke:
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up for a readable socket")
	}
	// Unread data: the next registration fires at once (level-triggered).
	tok, err := p.park(rc, false, wake)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-woke:
	case <-time.After(5 * time.Second):
		t.Fatal("no wake-up for a socket that was already readable")
	}
	if p.cancel(tok) {
		t.Fatal("cancel took a registration the poller had already fired")
	}
	// Drain, park, cancel: the cancel owns it and the poller stays silent.
	buf := make([]byte, 8)
	if _, err := server.Read(buf); err != nil {
		t.Fatal(err)
	}
	tok, err = p.park(rc, false, wake)
	if err != nil {
		t.Fatal(err)
	}
	if !p.cancel(tok) {
		t.Fatal("cancel of a waiting registration failed")
	}
	_, _ = client.Write([]byte("y"))
	select {
	case <-woke:
		t.Fatal("a cancelled registration woke")
	case <-time.After(50 * time.Millisecond):
	}
	// A closed socket cannot be registered.
	_ = server.Close()
	if _, err := p.park(rc, false, wake); err == nil {
		t.Fatal("park of a closed socket succeeded")
	}
}
