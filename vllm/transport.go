package vllm

import (
	"bufio"
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// transport is the round tripper of the default client. For plain-HTTP requests that go
// to the replica directly (no proxy) it runs the whole exchange in the caller's goroutine
// over pooled keep-alive connections: it writes the request, reads the response headers
// and hands the body back, and the caller's reads are socket reads. net/http's transport
// keeps a reader and a writer goroutine per connection and hands every request and
// response between them and the caller, so a stream's start waits for two goroutines to
// be scheduled where this waits for one. On 2 shared cores at 1,000 paced SSE streams
// the gateway's time to first token was lower in eight of ten alternating pairs (p50 49,
// 14.5, 17.1, 66, 58, 74, 22.7, 67, 13.4, 19.1 ms → 29, 12.9, 11.9, 56, 46, 59, 87, 21,
// 16.3, 12.2 ms; the machine is noisy) with 2,000 goroutines and 3–5 MiB fewer.
// In-process benchmarks, where client, server and simulator share one scheduler, are
// slower with it (BenchmarkClientSim ~17 %); the deployment shape is the one measured
// above. Everything else (https, a proxy from the environment, protocol upgrades) goes
// to a cloned http.DefaultTransport.
//
// Cancelling a request's context closes its connection at once, as closing the body
// before its end does: vLLM aborts a generation only when its connection closes. A
// connection returns to the pool when its body was read to the end and nothing follows
// it. An idle connection is checked before reuse (a non-blocking peek: closed by the
// server, or holding bytes nobody asked for, it is discarded). A request on a reused
// connection that still finds it dead is sent once more on a new connection when the
// server cannot have processed it — its write failed — or when it is replayable by
// net/http's rule (GET, HEAD, OPTIONS, TRACE, an idempotency key); a POST written in full
// is not. Bodies over 64 KiB go to net/http's transport, which reads an early answer (a
// 413) while it writes.
type transport struct {
	fallback    *http.Transport // everything not handled here; also its proxy decision
	maxIdle     int             // idle connections kept per host
	idleTimeout time.Duration   // an idle connection older than this is closed
	dialer      net.Dialer

	mu    sync.Mutex
	idle  map[string][]*upConn // per host:port, most recently used last
	sweep *time.Timer          // closes expired idle connections; nil when none is idle
}

// newTransport returns the default transport: up to 2,048 idle connections per host,
// closed after 90 s idle. A replica may keep as many idle connections as the whole pool:
// with fewer than the streams in flight (a gateway relays 1,000 and more), every stream
// that ends closes its connection and the next one dials again — the dial showed as ~9 %
// of the gateway's CPU at 1,000 streams and each dial adds to the time to first token.
func newTransport() *transport {
	fb := http.DefaultTransport.(*http.Transport).Clone()
	fb.MaxIdleConns = 2048
	fb.MaxIdleConnsPerHost = 2048
	fb.DialContext = (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return &transport{
		fallback: fb, maxIdle: 2048, idleTimeout: fb.IdleConnTimeout,
		dialer: net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second},
	}
}

// upConn is one upstream connection.
type upConn struct {
	addr   string // the pool's key: host:port as dialled
	conn   net.Conn
	br     *bufio.Reader
	bw     *bufio.Writer
	idleAt time.Time
}

// RoundTrip implements http.RoundTripper.
func (t *transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if !t.handles(req) {
		return t.fallback.RoundTrip(req)
	}
	ctx := req.Context()
	addr := hostPort(req)
	for attempt := 0; ; attempt++ {
		if ctx.Err() != nil {
			closeBody(req)
			return nil, context.Cause(ctx)
		}
		c, reused, err := t.conn(ctx, addr, attempt > 0)
		if err != nil {
			closeBody(req)
			if ctx.Err() != nil {
				return nil, context.Cause(ctx)
			}
			return nil, err
		}
		resp, written, err := t.exchange(ctx, c, req)
		if err == nil {
			return resp, nil
		}
		if ctx.Err() != nil {
			return nil, context.Cause(ctx)
		}
		// Send again only what the server cannot have processed: a request whose write
		// failed, or a replayable one (as net/http). A POST written in full may have
		// been read before the connection died.
		if !reused || !staleConn(err) || written && !replayable(req) || !rewindable(req) {
			return nil, err
		}
		if req, err = rewound(req); err != nil {
			return nil, err
		}
	}
}

// maxBody is the largest request body sent here; a larger or unknown one goes to
// net/http's transport, which reads an early answer (a 413) while it writes.
const maxBody = 64 << 10

// handles reports whether RoundTrip runs req itself.
func (t *transport) handles(req *http.Request) bool {
	if req.URL.Scheme != "http" || req.Method == http.MethodConnect || req.Header.Get("Upgrade") != "" {
		return false
	}
	if req.Body != nil && req.Body != http.NoBody && (req.ContentLength <= 0 || req.ContentLength > maxBody) { // 0: unknown
		return false
	}
	if t.fallback.Proxy != nil {
		if u, err := t.fallback.Proxy(req); err != nil || u != nil {
			return false
		}
	}
	return true
}

// exchange writes req on c and reads the response headers; the body it returns puts c
// back in the pool at its end. On an error c is closed; written tells whether the whole
// request had left.
func (t *transport) exchange(ctx context.Context, c *upConn, req *http.Request) (resp *http.Response, written bool, err error) {
	stop := context.AfterFunc(ctx, func() { c.conn.Close() })
	fail := func(err error) (*http.Response, bool, error) {
		stop()
		c.conn.Close()
		return nil, written, err
	}
	if err := req.Write(c.bw); err != nil {
		return fail(err)
	}
	if err := c.bw.Flush(); err != nil {
		return fail(err)
	}
	written = true
	// Wait for the first byte apart: its absence (io.EOF, a reset) is the stale
	// connection the caller may retry; ReadResponse reports it as ErrUnexpectedEOF.
	if _, err := c.br.Peek(1); err != nil {
		return fail(err)
	}
	for range 5 { // interim (1xx) responses, at most as many as net/http takes
		resp, err := http.ReadResponse(c.br, req)
		if err != nil {
			return fail(err)
		}
		if resp.StatusCode < 200 {
			if resp.StatusCode == http.StatusSwitchingProtocols { // not asked for: no reuse
				resp.Close = true
			} else {
				_ = resp.Body.Close() // a 1xx interim response has no body
				continue
			}
		}
		reuse := !resp.Close && !req.Close
		if resp.Body == http.NoBody { // nothing to read: settle the connection now
			if stop() && reuse {
				t.put(c)
			} else {
				c.conn.Close()
			}
			return resp, true, nil
		}
		resp.Body = &upBody{t: t, c: c, rc: resp.Body, stop: stop, ctx: ctx, reuse: reuse}
		return resp, true, nil
	}
	return fail(errors.New("vllm: too many interim (1xx) responses"))
}

// upBody is a response body; the first of its end and Close settles the connection.
// Reads come from one goroutine; Close may come from any.
type upBody struct {
	t     *transport
	c     *upConn
	rc    io.ReadCloser
	stop  func() bool
	ctx   context.Context
	reuse bool
	state atomic.Int32 // bodyOpen, bodyEnded (read to its end or failed), bodyClosed
	err   error        // what ended it, returned again by later reads; io.EOF at the end
}

const (
	bodyOpen int32 = iota
	bodyEnded
	bodyClosed
)

func (b *upBody) Read(p []byte) (int, error) {
	switch b.state.Load() {
	case bodyEnded:
		return 0, b.err
	case bodyClosed:
		return 0, http.ErrBodyReadAfterClose
	}
	n, err := b.rc.Read(p)
	if err == nil {
		return n, nil
	}
	if err != io.EOF && b.ctx.Err() != nil {
		err = context.Cause(b.ctx) // the context's end closed the connection
	}
	b.err = err
	if !b.state.CompareAndSwap(bodyOpen, bodyEnded) {
		return n, http.ErrBodyReadAfterClose // closed meanwhile: the connection is closed
	}
	if err == io.EOF && b.stop() && b.reuse {
		b.t.put(b.c)
		return n, err
	}
	b.stop()
	b.c.conn.Close()
	return n, err
}

// Close closes the connection unless the body was read to its end. It does not drain:
// a stream closed early must end upstream now.
func (b *upBody) Close() error {
	if b.state.CompareAndSwap(bodyOpen, bodyClosed) {
		b.stop()
		b.c.conn.Close()
	}
	return nil
}

// conn returns an idle connection to addr, or a new one (always new when fresh).
func (t *transport) conn(ctx context.Context, addr string, fresh bool) (c *upConn, reused bool, err error) {
	if !fresh {
		if c := t.take(addr); c != nil {
			return c, true, nil
		}
	}
	nc, err := t.dialer.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, false, err
	}
	return &upConn{addr: addr, conn: nc, br: bufio.NewReaderSize(nc, 4<<10), bw: bufio.NewWriterSize(nc, 4<<10)}, false, nil
}

// take pops the most recently used idle connection to addr that has not expired and
// that the server has not closed (or sent unasked-for bytes on) while it was idle.
func (t *transport) take(addr string) *upConn {
	for {
		c := t.pop(addr)
		if c == nil || alive(c.conn) {
			return c
		}
		c.conn.Close()
	}
}

func (t *transport) pop(addr string) *upConn {
	t.mu.Lock()
	defer t.mu.Unlock()
	list := t.idle[addr]
	if len(list) == 0 {
		return nil
	}
	c := list[len(list)-1]
	list[len(list)-1] = nil
	t.idle[addr] = list[:len(list)-1]
	if t.idleTimeout > 0 && time.Since(c.idleAt) > t.idleTimeout {
		// c is the youngest: every idle connection to addr has expired
		c.conn.Close()
		t.closeLocked(addr)
		return nil
	}
	return c
}

// put returns c to the pool, or closes it when the pool of its host is full or the
// server sent more than the response (bytes the next request would read as its own).
func (t *transport) put(c *upConn) {
	if c.br.Buffered() > 0 {
		c.conn.Close()
		return
	}
	addr := c.addr
	c.idleAt = time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.idle == nil {
		t.idle = map[string][]*upConn{}
	}
	if len(t.idle[addr]) >= max(t.maxIdle, 1) {
		c.conn.Close()
		return
	}
	t.idle[addr] = append(t.idle[addr], c)
	if t.sweep == nil && t.idleTimeout > 0 {
		t.sweep = time.AfterFunc(t.idleTimeout, t.expire)
	}
}

// expire closes the idle connections older than idleTimeout and re-arms itself while
// any connection is idle.
func (t *transport) expire() {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.sweep = nil
	oldest := time.Time{}
	for addr, list := range t.idle {
		keep := list[:0]
		for _, c := range list {
			if time.Since(c.idleAt) > t.idleTimeout {
				c.conn.Close()
				continue
			}
			keep = append(keep, c)
			if oldest.IsZero() || c.idleAt.Before(oldest) {
				oldest = c.idleAt
			}
		}
		clear(list[len(keep):])
		if len(keep) == 0 {
			delete(t.idle, addr)
		} else {
			t.idle[addr] = keep
		}
	}
	if !oldest.IsZero() {
		t.sweep = time.AfterFunc(time.Until(oldest.Add(t.idleTimeout))+time.Millisecond, t.expire)
	}
}

// CloseIdleConnections closes every idle connection (http.Client calls it).
func (t *transport) CloseIdleConnections() {
	t.mu.Lock()
	for addr := range t.idle {
		t.closeLocked(addr)
	}
	if t.sweep != nil {
		t.sweep.Stop()
		t.sweep = nil
	}
	t.mu.Unlock()
	t.fallback.CloseIdleConnections()
}

func (t *transport) closeLocked(addr string) {
	for _, c := range t.idle[addr] {
		c.conn.Close()
	}
	delete(t.idle, addr)
}

// idleCount returns how many connections are idle (for tests).
func (t *transport) idleCount() int {
	t.mu.Lock()
	defer t.mu.Unlock()
	n := 0
	for _, list := range t.idle {
		n += len(list)
	}
	return n
}

// hostPort is the dial address of req: the URL's host with port 80 when it has none.
func hostPort(req *http.Request) string {
	host := req.URL.Host
	if _, _, err := net.SplitHostPort(host); err == nil {
		return host
	}
	return net.JoinHostPort(req.URL.Hostname(), "80")
}

// staleConn reports whether err means a reused connection was already closed by the
// server: it ended before any byte of a response, or the write found it reset.
func staleConn(err error) bool {
	return errors.Is(err, io.EOF) || errors.Is(err, syscall.ECONNRESET) || errors.Is(err, syscall.EPIPE)
}

// replayable reports whether req may be sent again after it was written in full, by
// net/http's rule: an idempotent method, or an idempotency key.
func replayable(req *http.Request) bool {
	switch req.Method {
	case "", http.MethodGet, http.MethodHead, http.MethodOptions, http.MethodTrace:
		return true
	}
	return req.Header.Get("Idempotency-Key") != "" || req.Header.Get("X-Idempotency-Key") != ""
}

// rewindable reports whether req's body can be sent again.
func rewindable(req *http.Request) bool {
	return req.Body == nil || req.Body == http.NoBody || req.GetBody != nil
}

// rewound returns req with a fresh copy of its body for a second attempt.
func rewound(req *http.Request) (*http.Request, error) {
	if req.Body == nil || req.Body == http.NoBody {
		return req, nil
	}
	body, err := req.GetBody()
	if err != nil {
		return nil, err
	}
	r := *req
	r.Body = body
	return &r, nil
}

func closeBody(req *http.Request) {
	if req.Body != nil {
		_ = req.Body.Close()
	}
}
