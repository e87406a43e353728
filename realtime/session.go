package realtime

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/coder/websocket"
	"golang.org/x/sync/errgroup"
)

// Close codes of protocol hapa.v1 beyond the RFC 6455 ones (docs/protocol.md).
const (
	CloseAuthRevoked  = 4001 // the key was revoked or expired
	CloseSlowConsumer = 4008 // the socket stayed unwritable past the write timeout
	CloseTooManyConns = 4029 // too many sockets for this key (E4015)
)

var (
	errSlowConsumer = errors.New("realtime: slow consumer")
	errPongTimeout  = errors.New("realtime: pong timeout")
	errClosed       = errors.New("realtime: session closed")
)

// session is one editor socket: one owner (run, which is also the reader) with a
// writer and a pinger under one errgroup, plus one goroutine per stream reading from the engine. Frames are
// sent only by the writer, from the bounded sendQueue; nothing else writes to conn
// except the library's own control frames.
type session struct {
	hub    *Hub
	id     string
	conn   *websocket.Conn
	caller Caller
	log    *slog.Logger
	out    *sendQueue

	ctx    context.Context // cancelled when the session ends; parent of every stream
	cancel context.CancelFunc
	wg     sync.WaitGroup // stream goroutines

	mu        sync.Mutex // guards the fields below
	streams   map[string]*wsStream
	profile   *Profile
	editor    *EditorInfo
	workspace string
	affinity  string
	draining  bool

	closeMu     sync.Mutex
	closeCode   websocket.StatusCode
	closeReason string
	closeReq    chan struct{} // closed by closeWith: the writer flushes and closes
	closeOnce   sync.Once
}

func newSession(h *Hub, conn *websocket.Conn, caller Caller) *session {
	ctx, cancel := context.WithCancel(context.Background())
	id := newSessionID()
	s := &session{hub: h, id: id, conn: conn, caller: caller, out: newSendQueue(h.cfg.SendQueue),
		ctx: ctx, cancel: cancel, streams: make(map[string]*wsStream), closeReq: make(chan struct{}),
		log: h.log.With("session_id", id, "key_id", caller.KeyID)}
	s.affinity = affinityKey(caller, "", id)
	return s
}

// run serves the socket until it closes and returns when every goroutine of the
// session has ended.
func (s *session) run() {
	s.out.pushControl(EventSessionCreated, serverEvent{Type: EventSessionCreated, SessionID: s.id,
		Protocol: Protocol, ServerVersion: s.hub.cfg.ServerVersion, Limits: ptr(s.hub.cfg.limits())}.encode())
	// The owner goroutine (the HTTP handler's) is the reader itself: one goroutine and
	// its stack fewer per idle socket than a separate reader would cost.
	ctx, stop := context.WithCancel(s.ctx)
	g, gctx := errgroup.WithContext(ctx)
	g.Go(func() error { defer s.recoverPanic(); return s.writeLoop(gctx) })
	g.Go(func() error { defer s.recoverPanic(); return s.keepalive(gctx) })
	rerr := func() error { defer s.recoverPanic(); return s.readLoop(gctx) }()
	stop() // the socket is done reading: end the writer and the pinger
	err := errors.Join(rerr, g.Wait())
	s.cancel() // every stream context derives from s.ctx: upstream requests close now
	s.out.close()
	s.wg.Wait()
	_ = s.conn.CloseNow()
	s.mu.Lock()
	for id, st := range s.streams { // streams whose terminal frame was never written
		delete(s.streams, id)
		outcome := st.outcome
		if outcome == "" {
			outcome = "cancelled"
		}
		s.hub.streamClosed(st.kind, outcome)
	}
	s.mu.Unlock()
	code, reason := s.closeStatus()
	s.log.Debug("realtime: session closed", "code", int(code), "reason", reason, "err", err)
	s.hub.obs.SessionClosed(int(code))
}

// recoverPanic turns a panic in a session goroutine into a 1011 close of that socket
// instead of a crash of the process (these goroutines are not net/http's).
func (s *session) recoverPanic() {
	if v := recover(); v != nil {
		s.log.Error("realtime: panic in session", "panic", v, "stack", string(debug.Stack()))
		s.setClose(websocket.StatusInternalError, "internal error")
		s.cancel()
		_ = s.conn.CloseNow()
	}
}

// setClose records why the session ends; the first reason wins.
func (s *session) setClose(code websocket.StatusCode, reason string) {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closeCode == 0 {
		s.closeCode, s.closeReason = code, truncate(reason, 120)
	}
}

func (s *session) closeStatus() (websocket.StatusCode, string) {
	s.closeMu.Lock()
	defer s.closeMu.Unlock()
	if s.closeCode == 0 {
		return websocket.StatusAbnormalClosure, ""
	}
	return s.closeCode, s.closeReason
}

// closeWith asks the writer to flush what is queued and close with code. It never blocks.
func (s *session) closeWith(code websocket.StatusCode, reason string) {
	s.setClose(code, reason)
	s.closeOnce.Do(func() { close(s.closeReq) })
}

// push queues a control frame; a full queue means the client does not read: 4008.
func (s *session) push(typ string, b []byte) {
	if !s.out.pushControl(typ, b) {
		s.closeWith(CloseSlowConsumer, "slow consumer: send queue full")
	}
}

func (s *session) readLoop(ctx context.Context) error {
	lim := newFrameLimiter(s.hub.cfg.FrameRate, s.hub.cfg.FrameBurst)
	for {
		typ, b, err := s.conn.Read(ctx)
		if err != nil {
			switch {
			case errors.Is(err, websocket.ErrMessageTooBig):
				s.setClose(websocket.StatusMessageTooBig, "message too big")
			case websocket.CloseStatus(err) != -1:
				s.setClose(websocket.CloseStatus(err), "closed by client")
			}
			return err
		}
		switch v := lim.allow(time.Now()); v {
		case frameReject, frameRejectNotify:
			s.hub.obs.FrameReceived("rejected")
			s.rejectFrame(b, v == frameRejectNotify, lim.retryAfter())
			continue
		case frameViolation:
			s.closeWith(websocket.StatusPolicyViolation, "frame rate exceeded")
			continue // keep reading until the close handshake ends the loop
		}
		if typ != websocket.MessageText {
			s.hub.obs.FrameReceived("invalid")
			s.push(EventError, errorFrame("", NewError(CodeInvalidInput, "binary frames are not supported; send JSON text")))
			continue
		}
		ev, perr := DecodeClientEvent(b)
		if perr != nil {
			s.hub.obs.FrameReceived("invalid")
			s.push(EventError, errorFrame(ev.EventID, perr))
			continue
		}
		s.hub.obs.FrameReceived(ev.Type)
		s.handle(ev)
	}
}

// writeLoop is the only writer of data frames. A close request is checked before every
// batch, so a busy stream cannot hold a revocation or shutdown close back.
func (s *session) writeLoop(ctx context.Context) error {
	var batch []outFrame
	for {
		select {
		case <-s.closeReq:
			return s.closeConn(ctx, batch)
		default:
		}
		batch = s.out.take(batch[:0])
		if err := s.writeBatch(ctx, batch); err != nil {
			return err
		}
		if len(batch) > 0 {
			clear(batch)
			continue
		}
		select {
		case <-ctx.Done():
			return nil
		case <-s.out.wake:
		case <-s.closeReq:
			return s.closeConn(ctx, batch)
		}
	}
}

// closeConn cancels the streams, flushes what is queued and closes with the recorded code.
func (s *session) closeConn(ctx context.Context, batch []outFrame) error {
	s.cancelStreams()
	if err := s.writeBatch(ctx, s.out.take(batch[:0])); err != nil {
		return err
	}
	code, reason := s.closeStatus()
	_ = s.conn.Close(code, reason)
	return errClosed
}

func (s *session) writeBatch(ctx context.Context, batch []outFrame) error {
	for _, f := range batch {
		if f.last != nil {
			// Free the id before the terminal frame leaves: a client that reuses the id
			// as soon as it reads stream.done must find it free.
			s.release(f.last)
		}
		wctx, cancel := context.WithTimeout(ctx, s.hub.cfg.WriteTimeout)
		err := s.conn.Write(wctx, websocket.MessageText, f.data)
		timedOut := errors.Is(wctx.Err(), context.DeadlineExceeded)
		cancel()
		if err != nil {
			if timedOut { // the deadline fired first (a cancelled parent gives Canceled)
				s.setClose(CloseSlowConsumer, "slow consumer: write timeout")
				s.log.Info("realtime: closing slow consumer", "write_timeout", s.hub.cfg.WriteTimeout)
				return errSlowConsumer
			}
			return err
		}
		s.hub.obs.FrameSent(f.typ, len(f.data))
	}
	return nil
}

// keepalive pings the client and re-validates its key.
func (s *session) keepalive(ctx context.Context) error {
	ping := time.NewTicker(s.hub.cfg.PingInterval)
	defer ping.Stop()
	var revalidate <-chan time.Time
	rv, _ := s.hub.deps.Auth.(Revalidator)
	if rv != nil {
		t := time.NewTicker(s.hub.cfg.RevalidateInterval)
		defer t.Stop()
		revalidate = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-ping.C:
			pctx, cancel := context.WithTimeout(ctx, s.hub.cfg.PongTimeout)
			err := s.conn.Ping(pctx)
			cancel()
			if err != nil && ctx.Err() == nil {
				s.setClose(websocket.StatusAbnormalClosure, "pong timeout")
				return errPongTimeout
			}
		case <-revalidate:
			rctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			e := rv.Revalidate(rctx, s.caller)
			cancel()
			switch {
			case e == nil:
			case e.Code == CodeInvalidKey || e.Code == CodeKeyExpired || e.Code == CodeKeyRevoked:
				s.closeWith(CloseAuthRevoked, string(e.Code)+": "+e.Message)
			default:
				s.log.Warn("realtime: key revalidation failed; keeping the socket", "err", e)
			}
		}
	}
}
