package ws

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"net"
	"net/http"
	"os"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// The socket under coder/websocket, shaped for many idle editors and for batched writes.
//
// net/http hands a hijacked connection over with a 4 KiB read and a 4 KiB write buffer
// that live as long as the socket. An idle editor socket needs neither: client frames
// are small and rare, and the session writer corks its frames into one pooled buffer per
// batch and sends the batch in one write. smallHijacker gives coder/websocket a
// 256-byte reader and writer instead and puts a wsConn under them; an idle socket then
// holds about 0.5 KiB of buffers instead of 8 KiB.

const (
	wsReadBufferBytes  = 256 // bufio.Reader under coder/websocket; bigger payloads are read directly
	wsWriteBufferBytes = 256 // bufio.Writer under coder/websocket; covers a control frame
	corkFlushBytes     = 64 << 10
)

// corkPool holds the batch buffers of every socket; a socket takes one only while its
// writer has frames to send.
var corkPool = sync.Pool{New: func() any { b := make([]byte, 0, 4<<10); return &b }}

// wsConn is a net.Conn with a write deadline on every network write and a cork: between
// cork and uncork, writes are collected and go out as one write when uncork is called
// (or when more than corkFlushBytes are collected). Writes from coder/websocket's own
// control frames (pong, close) that arrive while corked are sent with the batch.
type wsConn struct {
	net.Conn
	timeout time.Duration
	br      *bufio.Reader   // the read buffer coder/websocket reads from
	rc      syscall.RawConn // for the read poller; nil when the socket has none
	early   bool            // the client sent bytes with the handshake: they are not in br
	pong    atomic.Bool     // a pong arrived since the last ping

	mu     sync.Mutex
	corked bool
	buf    *[]byte // from corkPool while corked
	err    error   // the first network write error; every later write returns it
}

// errWriteTimeout is returned when a write stayed blocked past the write timeout.
var errWriteTimeout = errors.New("realtime: socket write timed out")

func (c *wsConn) Write(p []byte) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.err != nil {
		return 0, c.err
	}
	if !c.corked {
		return c.send(p)
	}
	*c.buf = append(*c.buf, p...)
	if len(*c.buf) >= corkFlushBytes {
		if err := c.flushLocked(); err != nil {
			return 0, err
		}
	}
	return len(p), nil
}

// writeErr is the network write error that broke the socket, if any.
func (c *wsConn) writeErr() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.err
}

// pingFrame is the server's keepalive ping (unmasked, payload "hapa").
var pingFrame = []byte{0x89, 4, 'h', 'a', 'p', 'a'}

// writePing writes a ping frame. coder/websocket writes each control frame in one
// Write (it fits its 256-byte buffer), and data frames are written only by the session
// writer, which calls this between its frames, so the ping never lands inside a frame.
func (c *wsConn) writePing() {
	_, _ = c.Write(pingFrame) // an error is kept in c.err and reported by uncork
}

// cork starts collecting writes.
func (c *wsConn) cork() {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		c.corked = true
		c.buf = corkPool.Get().(*[]byte)
	}
}

// uncork sends what was collected in one write and returns the buffer to the pool.
func (c *wsConn) uncork() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if !c.corked {
		return c.err
	}
	err := c.flushLocked()
	c.corked = false
	if cap(*c.buf) <= 64<<10 { // a burst that grew it past the flush size is not kept
		*c.buf = (*c.buf)[:0]
		corkPool.Put(c.buf)
	}
	c.buf = nil
	return err
}

func (c *wsConn) flushLocked() error {
	if c.err != nil {
		return c.err
	}
	if len(*c.buf) == 0 {
		return nil
	}
	_, err := c.send(*c.buf)
	*c.buf = (*c.buf)[:0]
	return err
}

// send writes p under the write timeout; c.mu is held.
func (c *wsConn) send(p []byte) (int, error) {
	if err := c.Conn.SetWriteDeadline(time.Now().Add(c.timeout)); err != nil {
		c.err = err
		return 0, err
	}
	n, err := c.Conn.Write(p)
	if err != nil {
		if errors.Is(err, os.ErrDeadlineExceeded) {
			err = errWriteTimeout
		}
		c.err = err
	}
	return n, err
}

// smallHijacker wraps the handler's ResponseWriter so that coder/websocket's Accept
// hijacks through it (Accept looks for http.Hijacker before Unwrap).
type smallHijacker struct {
	http.ResponseWriter
	conn *wsConn // filled in by Hijack; nothing of the session may keep the hijacker (it holds the request)
}

func (h *smallHijacker) Unwrap() http.ResponseWriter { return h.ResponseWriter }

func (h *smallHijacker) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	nc, brw, err := http.NewResponseController(h.ResponseWriter).Hijack()
	if err != nil {
		return nil, nil, err
	}
	if err := brw.Writer.Flush(); err != nil { // nothing is buffered after WriteHeader(101); be sure
		_ = nc.Close()
		return nil, nil, err
	}
	c := h.conn
	c.Conn = nc
	if sc, ok := nc.(syscall.Conn); ok {
		c.rc, _ = sc.SyscallConn()
	}
	c.br = bufio.NewReaderSize(c, wsReadBufferBytes)
	if n := brw.Reader.Buffered(); n > 0 { // bytes the client sent right after the handshake
		early, _ := brw.Reader.Peek(n)
		// Accept keeps what the reader has buffered (and re-wraps it out of the
		// poller's sight: no parking for this socket), so buffer them now.
		c.br = bufio.NewReaderSize(io.MultiReader(bytes.NewReader(bytes.Clone(early)), c), max(wsReadBufferBytes, n))
		if _, err := c.br.Peek(n); err != nil {
			_ = nc.Close()
			return nil, nil, err
		}
		c.early = true
	}
	return c, bufio.NewReadWriter(c.br, bufio.NewWriterSize(c, wsWriteBufferBytes)), nil
}
