package ws

import (
	"sync"
	"syscall"
)

// readPoller lets an idle socket wait for its next client frame without a goroutine:
// the session's reader registers the socket and returns, and the poller starts a new
// reader when the socket becomes readable (docs/protocol.md: sessions are mostly idle; a parked
// goroutine with its stack costs more than the rest of the session). One poller serves
// the process; where the platform has none (newPoller fails), readers block as usual.
//
// Exactly one of the poller (readiness) and cancel (the session is closing) takes a
// registration, so exactly one reader resumes.
type readPoller struct {
	impl pollImpl

	mu      sync.Mutex
	next    uint64
	waiting map[uint64]func()
}

// pollImpl is the platform part: arm(fd, token) watches fd once for readability (or
// hang-up) and wait blocks until at least one armed fd fires, returning the tokens.
type pollImpl interface {
	arm(fd int, token uint64, first bool) error
	wait(tokens []uint64) ([]uint64, error)
}

var sharedPoller = sync.OnceValue(func() *readPoller {
	impl, err := newPollImpl()
	if err != nil {
		return nil
	}
	p := &readPoller{impl: impl, waiting: make(map[uint64]func())}
	go p.loop()
	return p
})

// park registers rc's socket; wake runs in a new goroutine when it is readable, unless
// cancel(token) took the registration first. first tells a socket's first registration.
// On an error nothing is registered and the caller reads as usual.
func (p *readPoller) park(rc syscall.RawConn, first bool, wake func()) (uint64, error) {
	p.mu.Lock()
	p.next++
	tok := p.next
	p.waiting[tok] = wake
	p.mu.Unlock()
	var armErr error
	// Control holds the descriptor open: it cannot be closed and reused meanwhile.
	err := rc.Control(func(fd uintptr) { armErr = p.impl.arm(int(fd), tok, first) })
	if err == nil {
		err = armErr
	}
	if err != nil {
		p.cancel(tok)
		return 0, err
	}
	return tok, nil
}

// cancel takes the registration back; true means the caller now owns the wake-up.
func (p *readPoller) cancel(tok uint64) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if _, ok := p.waiting[tok]; !ok {
		return false
	}
	delete(p.waiting, tok)
	return true
}

func (p *readPoller) loop() {
	buf := make([]uint64, 0, 256)
	for {
		toks, err := p.impl.wait(buf[:0])
		if err != nil {
			continue // EINTR
		}
		for _, tok := range toks {
			p.mu.Lock()
			wake, ok := p.waiting[tok]
			delete(p.waiting, tok)
			p.mu.Unlock()
			if ok {
				go wake()
			}
		}
	}
}
