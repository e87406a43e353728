package storetest

import (
	"net"
	"sync"
	"testing"
	"time"
)

// Proxy is a TCP fault proxy: it forwards a local address to a target until told to
// fail, so a test can break the connection between a client and a shared server
// (PostgreSQL, Redis, a vLLM replica) without touching the server itself.
//
//   - Refuse: the listener closes and every connection drops; new dials are refused.
//   - BlackHole: connections are accepted and kept, but nothing is forwarded either way
//     (a partitioned network or a hung server: clients wait for their timeouts).
//   - Slow(d): every chunk is delayed by d in each direction.
//   - Cut: the open connections drop; new ones are forwarded.
//   - Heal: back to forwarding on the same address.
type Proxy struct {
	t      testing.TB
	target string

	mu    sync.Mutex
	addr  string
	ln    net.Listener
	conns map[net.Conn]struct{}
	hole  bool
	delay time.Duration
	wg    sync.WaitGroup
}

// NewProxy starts a proxy to target on a free loopback port; it stops when the test
// ends.
func NewProxy(t testing.TB, target string) *Proxy {
	p := &Proxy{t: t, target: target, conns: map[net.Conn]struct{}{}}
	p.listen()
	t.Cleanup(p.close)
	return p
}

// Addr is the proxy's host:port; it stays the same across Refuse and Heal.
func (p *Proxy) Addr() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.addr
}

// Refuse closes the listener and every connection: dials get "connection refused".
func (p *Proxy) Refuse() {
	p.mu.Lock()
	if p.ln != nil {
		p.ln.Close()
		p.ln = nil
	}
	p.mu.Unlock()
	p.Cut()
}

// BlackHole keeps accepting connections but forwards nothing in either direction.
func (p *Proxy) BlackHole() {
	p.mu.Lock()
	p.hole = true
	p.mu.Unlock()
	p.listen()
}

// Slow delays every forwarded chunk by d (0: no delay).
func (p *Proxy) Slow(d time.Duration) {
	p.mu.Lock()
	p.delay = d
	p.mu.Unlock()
}

// Cut closes the open connections; new ones are served as before.
func (p *Proxy) Cut() {
	p.mu.Lock()
	for c := range p.conns {
		c.Close()
	}
	clear(p.conns)
	p.mu.Unlock()
}

// Heal forwards again: listening on the same address, no black hole, no delay. The
// connections held by a black hole are dropped (their clients have given up on them).
func (p *Proxy) Heal() {
	p.mu.Lock()
	wasHole := p.hole
	p.hole, p.delay = false, 0
	p.mu.Unlock()
	if wasHole {
		p.Cut()
	}
	p.listen()
}

func (p *Proxy) close() {
	p.Refuse()
	p.wg.Wait()
}

// listen (re)opens the listener on the proxy's address unless it is open.
func (p *Proxy) listen() {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.ln != nil {
		return
	}
	addr := p.addr
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	var ln net.Listener
	var err error
	for i := 0; i < 100; i++ { // the old port may take a moment to be free again
		if ln, err = net.Listen("tcp", addr); err == nil {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	if err != nil {
		p.t.Fatalf("proxy listen on %s: %v", addr, err)
	}
	p.ln, p.addr = ln, ln.Addr().String()
	p.wg.Add(1)
	go p.accept(ln)
}

func (p *Proxy) accept(ln net.Listener) {
	defer p.wg.Done()
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		p.mu.Lock()
		hole := p.hole
		p.conns[c] = struct{}{}
		p.mu.Unlock()
		if hole {
			continue // held open, never answered; Cut or Heal closes it
		}
		up, err := net.Dial("tcp", p.target)
		if err != nil {
			p.drop(c)
			continue
		}
		p.mu.Lock()
		p.conns[up] = struct{}{}
		p.mu.Unlock()
		p.wg.Add(2)
		go p.pump(up, c)
		go p.pump(c, up)
	}
}

// pump copies src to dst chunk by chunk, applying the current delay and black hole,
// and closes both ends when either fails.
func (p *Proxy) pump(dst, src net.Conn) {
	defer p.wg.Done()
	defer p.drop(dst)
	defer p.drop(src)
	buf := make([]byte, 32<<10)
	for {
		n, err := src.Read(buf)
		if n > 0 {
			p.mu.Lock()
			hole, delay := p.hole, p.delay
			p.mu.Unlock()
			if delay > 0 {
				time.Sleep(delay)
			}
			if !hole {
				if _, werr := dst.Write(buf[:n]); werr != nil {
					return
				}
			}
		}
		if err != nil { // io.EOF or a closed connection
			return
		}
	}
}

func (p *Proxy) drop(c net.Conn) {
	c.Close()
	p.mu.Lock()
	delete(p.conns, c)
	p.mu.Unlock()
}
