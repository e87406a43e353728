package ws

import (
	"context"
	"errors"
	"time"

	"github.com/coder/websocket"

	"github.com/hapa-project/hapa/realtime"
)

// errParked: the reader registered the socket with the read poller and returns; the
// poller starts the next reader when a client frame arrives.
var errParked = errors.New("realtime: reader parked")

var errPanicked = errors.New("realtime: session goroutine panicked")

// read is the session's reader: it handles client frames while any is buffered, then
// parks the socket in the read poller and returns, so an idle socket has no goroutine.
// woken is true when the poller found the socket readable. When the socket ends, the
// reader ends the session.
func (s *session) read(woken bool) {
	s.hub.readers.Add(1)
	defer s.hub.readers.Add(-1)
	err := func() (err error) {
		defer func() {
			if v := recover(); v != nil {
				s.panicked(v) // logged, closed with 1011
				err = errPanicked
			}
		}()
		for {
			if !woken && s.park() {
				return errParked
			}
			if err := s.readFrame(woken); err != nil {
				return err
			}
			woken = false
		}
	}()
	if err != errParked {
		s.end(err)
	}
}

// resume is the poller's wake-up of a parked reader.
func (s *session) resume() {
	s.mu.Lock()
	s.parkTok = 0
	s.mu.Unlock()
	s.read(true)
}

// park registers the socket with the read poller when nothing is buffered; false means
// keep reading here (no poller, bytes buffered, the socket closing). s.mu is held
// from the check of closed to the record of the token: a reader the poller starts at
// once (the socket was readable) clears parkTok in resume only after it was set, and
// closeNow sees either closed false and no token yet, or the token.
func (s *session) park() bool {
	p := sharedPoller()
	if p == nil || s.wc.rc == nil || s.wc.early || s.buffered() > 0 {
		return false
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return false
	}
	tok, err := p.park(s.wc.rc, !s.armed, s.resume)
	if err != nil {
		return false // the socket is closed (or the poller refused): the read reports it
	}
	s.armed = true
	s.parkTok = tok
	return true
}

// buffered is how many bytes the read buffer holds. The close handshake (closeConn)
// may be reading the buffer meanwhile, so the look is under peekMu.
func (s *session) buffered() int {
	s.peekMu.Lock()
	defer s.peekMu.Unlock()
	return s.wc.br.Buffered()
}

// readFrame reads and handles one client message (or one pong, see skipPong).
func (s *session) readFrame(woken bool) error {
	if s.skipPong(woken) {
		return nil
	}
	typ, b, err := s.conn.Read(context.Background())
	if err != nil {
		switch {
		case errors.Is(err, websocket.ErrMessageTooBig):
			s.setClose(websocket.StatusMessageTooBig, "message too big")
		case websocket.CloseStatus(err) != -1:
			s.setClose(websocket.CloseStatus(err), "closed by client")
		}
		return err
	}
	switch v := s.lim.allow(time.Now()); v {
	case frameReject, frameRejectNotify:
		ev, perr := DecodeClientEvent(b)
		if typ == websocket.MessageText && perr == nil && ev.Type == EventStreamCancel {
			// A cancel only ends work: dropped, its stream would run on and spend the
			// key's tokens. It is honoured over the rate and still counted as rejected,
			// so a flood of cancels closes the socket like any other.
			if v == frameRejectNotify {
				s.lim.passOnNotice()
			}
			s.hub.obs.FrameReceived(ev.Type)
			s.handle(ev)
			return nil
		}
		s.hub.obs.FrameReceived("rejected")
		s.rejectFrame(ev, perr, v == frameRejectNotify, s.lim.retryAfter())
		return nil
	case frameViolation:
		s.closeWith(websocket.StatusPolicyViolation, "frame rate exceeded")
		return nil // keep reading until the close handshake ends the reader
	}
	if typ != websocket.MessageText {
		s.hub.obs.FrameReceived("invalid")
		s.push(EventError, errorFrame("", s.tr(realtime.NewError(realtime.CodeInvalidInput, "binary frames are not supported; send JSON text"))))
		return nil
	}
	ev, perr := DecodeClientEvent(b)
	if perr != nil {
		s.hub.obs.FrameReceived("invalid")
		s.push(EventError, errorFrame(ev.EventID, s.tr(perr)))
		return nil
	}
	s.hub.obs.FrameReceived(ev.Type)
	s.handle(ev)
	return nil
}

// skipPong consumes a client pong that lies whole in the read buffer. coder/websocket
// would read it too, but its Read then waits for the next data message, which would
// keep a goroutine per idle socket blocked after every keepalive. Between messages the
// library holds nothing of the stream, so taking a whole control frame out of the
// buffer is invisible to it. It reads from the socket only when the poller found it
// readable (woken), so it never blocks on a quiet client.
func (s *session) skipPong(woken bool) bool {
	br := s.wc.br
	if s.wc.early {
		return false
	}
	s.peekMu.Lock() // before any look into br: the close handshake may be reading it
	defer s.peekMu.Unlock()
	if !woken && br.Buffered() == 0 {
		return false
	}
	if _, err := br.Peek(1); err != nil {
		return false // the read below reports it
	}
	b, _ := br.Peek(br.Buffered())
	// A client frame is masked: FIN+pong, mask bit + length ≤ 125, 4 mask bytes, payload.
	if len(b) < 6 || b[0] != 0x8A || b[1]&0x80 == 0 {
		return false
	}
	n := 6 + int(b[1]&0x7F)
	if b[1]&0x7F > 125 || len(b) < n {
		return false
	}
	_, _ = br.Discard(n)
	s.wc.pong.Store(true)
	return true
}
