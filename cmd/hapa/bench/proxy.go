package bench

import (
	"bytes"
	"io"
	"net"
	"sync"
	"time"
)

// CloseProxy is a TCP proxy between the gateway and the simulator that timestamps the
// moment the gateway closes an upstream connection in the middle of a streamed answer,
// which is when vLLM would abort the generation. The simulator is not changed.
type CloseProxy struct {
	ln       net.Listener
	upstream string
	aborts   chan time.Time
	wg       sync.WaitGroup
}

// NewCloseProxy listens on a loopback port and forwards to upstream (host:port).
func NewCloseProxy(upstream string) (*CloseProxy, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	p := &CloseProxy{ln: ln, upstream: upstream, aborts: make(chan time.Time, 4096)}
	p.wg.Add(1)
	go p.accept()
	return p, nil
}

// Addr is the proxy's host:port.
func (p *CloseProxy) Addr() string { return p.ln.Addr().String() }

// Aborts delivers the time of every mid-stream close by the gateway.
func (p *CloseProxy) Aborts() <-chan time.Time { return p.aborts }

// Drain discards pending abort times.
func (p *CloseProxy) Drain() {
	for {
		select {
		case <-p.aborts:
		default:
			return
		}
	}
}

// Close stops accepting; open connections end when their peers close them.
func (p *CloseProxy) Close() {
	p.ln.Close()
	p.wg.Wait()
}

func (p *CloseProxy) accept() {
	defer p.wg.Done()
	for {
		down, err := p.ln.Accept()
		if err != nil {
			return
		}
		go p.serve(down)
	}
}

// serve pipes one connection. A response is "streaming" from its text/event-stream
// header to its data: [DONE]; when the gateway's side ends during that span the close
// is an abort.
func (p *CloseProxy) serve(down net.Conn) {
	up, err := net.Dial("tcp", p.upstream)
	if err != nil {
		down.Close()
		return
	}
	var mu sync.Mutex
	streaming := false
	go func() {
		buf := make([]byte, 32<<10)
		for {
			n, err := up.Read(buf)
			if n > 0 {
				chunk := buf[:n]
				mu.Lock()
				if bytes.Contains(chunk, []byte("text/event-stream")) {
					streaming = true
				}
				if bytes.Contains(chunk, []byte("data: [DONE]")) {
					streaming = false
				}
				mu.Unlock()
				if _, werr := down.Write(chunk); werr != nil {
					break
				}
			}
			if err != nil {
				break
			}
		}
		down.Close()
	}()
	_, _ = io.Copy(up, down)
	t := time.Now()
	mu.Lock()
	abort := streaming
	mu.Unlock()
	if abort {
		select {
		case p.aborts <- t:
		default:
		}
	}
	up.Close()
}
