package ws

import (
	"context"
	"errors"
	"log/slog"
	"runtime/debug"
	"sync"
	"time"

	"github.com/coder/websocket"

	"github.com/hapa-project/hapa/realtime"
)

// Close codes of protocol hapa.v1 beyond the RFC 6455 ones (docs/protocol.md).
const (
	CloseAuthRevoked  = 4001 // the key was revoked or expired
	CloseSlowConsumer = 4008 // the socket stayed unwritable past the write timeout
	CloseTooManyConns = 4029 // too many sockets for this key (E4015)
)

// session is one editor socket. An idle socket costs no goroutine: its reader parks
// the socket in the read poller (session_read.go) between client frames, the writer
// goroutine exists only while frames are queued or a stream is open (the send queue
// starts it), and the keepalive ping and the key re-check are timers (session_keepalive.go).
// One goroutine per stream reads from the engine. Frames are sent only by the writer,
// from the bounded sendQueue; nothing else writes to conn except the library's own
// control replies.
type session struct {
	hub    *Hub
	id     string
	conn   *websocket.Conn
	wc     *wsConn // the socket under conn: read buffer, cork, write deadline
	caller realtime.Caller
	lang   realtime.Lang // of the upgrade request's Accept-Language: error frames' messages
	log    *slog.Logger
	out    *sendQueue
	lim    *frameLimiter // client frame rate; used by the (one) active reader

	ctx    context.Context // cancelled when the session ends; parent of every stream
	cancel context.CancelFunc
	wg     sync.WaitGroup // stream goroutines

	mu         sync.Mutex // guards the fields below
	streams    map[string]*wsStream
	profile    *realtime.Profile
	editor     *EditorInfo
	workspace  string
	affinity   string
	draining   bool
	pingTimer  *time.Timer
	pingSent   time.Time   // zero: no ping awaits its pong
	checkTimer *time.Timer // key re-validation
	parkTok    uint64      // the reader's poller registration; 0 while a reader runs
	armed      bool        // the socket is in the poller's set
	closed     bool        // closeNow or end ran: no parking, no timer re-arming
	leased     bool        // holds a cluster-wide socket lease (Deps.Leases)

	peekMu      sync.Mutex // the reader's look into the read buffer vs. the close handshake
	stopClose   func() bool
	closeMu     sync.Mutex
	closeCode   websocket.StatusCode
	closeReason string
	closeErr    *realtime.Error // the terminal error of streams still open at the close
	closeReq    chan struct{}   // closed by closeWith: the writer flushes and closes
	closeOnce   sync.Once
	readDone    chan struct{} // closed when the reader has ended: the writer stops
}

func newSession(h *Hub, conn *websocket.Conn, wc *wsConn, caller realtime.Caller) *session {
	ctx, cancel := context.WithCancel(context.Background())
	id := newSessionID()
	s := &session{hub: h, id: id, conn: conn, wc: wc, caller: caller,
		ctx: ctx, cancel: cancel, streams: make(map[string]*wsStream),
		lim:      newFrameLimiter(h.cfg.FrameRate, h.cfg.FrameBurst),
		closeReq: make(chan struct{}), readDone: make(chan struct{}),
		log: h.log.With("session_id", id, "key_id", caller.KeyID)}
	// session.created is always the first frame: it is queued before the hub knows the
	// session (a drain or a revocation queues behind it), and the writer starts in start.
	s.out = newSendQueue(h.cfg.SendQueue, nil)
	s.out.pushControl(EventSessionCreated, serverEvent{Type: EventSessionCreated, SessionID: id,
		Protocol: Protocol, ServerVersion: h.cfg.ServerVersion, Limits: ptr(h.cfg.limits())}.encode())
	s.affinity = affinityKey(caller, "", id)
	return s
}

// start lets the writer send what is queued (session.created first), arms the timers
// and starts the reader. The session ends (end) when the reader meets the socket's end.
func (s *session) start() {
	s.out.setWriter(s.writeLoop)
	s.startTimers()
	// Ending the session context closes the socket, which ends a blocked or parked
	// reader (reads themselves run without a context: no timer per frame).
	s.stopClose = context.AfterFunc(s.ctx, s.closeNow)
	go s.read(false)
}

// end runs once, in the reader that met the socket's end, and returns when every
// goroutine of the session has ended.
func (s *session) end(err error) {
	s.mu.Lock()
	s.closed = true // a timer that fires now does not re-arm
	s.mu.Unlock()
	close(s.readDone) // a parked writer ends
	s.stopTimers()
	s.out.close() // no new writer starts; the running one (if any) ends
	s.out.writers.Wait()
	s.stopClose()
	s.cancel() // every stream context derives from s.ctx: upstream requests close now
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
	s.hub.unregister(s)
}

// closeNow drops the connection without a close handshake and resumes a parked
// reader, which then meets the closed socket and ends the session.
func (s *session) closeNow() {
	_ = s.conn.CloseNow()
	s.mu.Lock()
	s.closed = true
	tok := s.parkTok
	s.parkTok = 0
	s.mu.Unlock()
	if tok != 0 && sharedPoller().cancel(tok) {
		go s.read(false)
	}
}

// recoverPanic turns a panic in a session goroutine into a 1011 close of that socket
// instead of a crash of the process (these goroutines are not net/http's).
func (s *session) recoverPanic() {
	if v := recover(); v != nil {
		s.panicked(v)
	}
}

func (s *session) panicked(v any) {
	s.log.Error("realtime: panic in session", "panic", v, "stack", string(debug.Stack()))
	s.setClose(websocket.StatusInternalError, "internal error")
	s.cancel() // closes the socket: the reader ends the session
	s.closeNow()
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

// closeWith asks the writer to flush what is queued and close with code. It never
// blocks. Streams still open end with a cancelled stream.done first.
func (s *session) closeWith(code websocket.StatusCode, reason string) {
	s.closeWithError(code, reason, nil)
}

// closeWithError is closeWith whose open streams end with stream.error e instead (a
// revoked key, a shutdown deadline): every accepted create gets its terminal frame
// before the close.
func (s *session) closeWithError(code websocket.StatusCode, reason string, e *realtime.Error) {
	s.closeMu.Lock()
	if s.closeCode == 0 && e != nil {
		s.closeErr = e
	}
	s.closeMu.Unlock()
	s.setClose(code, reason)
	s.closeOnce.Do(func() { close(s.closeReq) })
	s.out.poke() // an idle socket has no writer running: start one to close
}

// push queues a control frame; a full queue means the client does not read: 4008.
func (s *session) push(typ string, b []byte) {
	if !s.out.pushControl(typ, b) {
		s.closeWith(CloseSlowConsumer, "slow consumer: send queue full")
	}
}

// writeLoop is the only writer of data frames; the send queue starts it when something
// is queued and none runs, and it ends when the queue is empty and no stream is open
// (while one is, it waits for the next frame instead of ending and starting again per
// token). A close request is checked before every batch, so a busy stream cannot hold
// a revocation or shutdown close back. A write error closes the socket, which ends the
// reader and so the session.
func (s *session) writeLoop() {
	defer s.out.writers.Done()
	defer s.recoverPanic()
	var batch []outFrame
	for {
		select {
		case <-s.closeReq:
			s.out.retire()
			s.closeConn(batch)
			return
		default:
		}
		ping := s.out.takePing()
		var wait bool
		batch, wait = s.out.takeOrPark(batch[:0])
		if ping || len(batch) > 0 {
			if err := s.writeBatch(ping, batch); err != nil {
				s.out.retire()
				if errors.Is(err, errWriteTimeout) {
					s.setClose(CloseSlowConsumer, "slow consumer: write timeout")
					s.log.Info("realtime: closing slow consumer", "write_timeout", s.hub.cfg.WriteTimeout)
				}
				s.closeNow()
				return
			}
			clear(batch)
			continue
		}
		if !wait {
			return // takeOrPark marked the queue writer-less
		}
		select {
		case <-s.readDone:
			s.out.retire()
			return
		case <-s.out.wake:
		case <-s.closeReq:
		}
	}
}

// closeConn cancels the streams, waits (at most terminalWait) for their terminal
// frames to be queued, flushes what is queued and closes with the recorded code. The
// close handshake may read the client's reply itself (a parked reader does not), so
// it holds peekMu against the reader's look into the read buffer.
func (s *session) closeConn(batch []outFrame) {
	s.closeMu.Lock()
	e := s.closeErr
	s.closeMu.Unlock()
	s.cancelStreams(e)
	s.awaitStreams(terminalWait)
	if err := s.writeBatch(false, s.out.take(batch[:0])); err != nil {
		s.closeNow()
		return
	}
	code, reason := s.closeStatus()
	s.peekMu.Lock()
	_ = s.conn.Close(code, reason)
	s.peekMu.Unlock()
	s.closeNow() // the handshake closed the socket; wake a parked reader to end the session
}

// writeBatch writes a keepalive ping (when due) and the frames corked: they leave in
// one write, under the socket's write deadline (WS_WRITE_TIMEOUT; errWriteTimeout
// when it passes).
func (s *session) writeBatch(ping bool, batch []outFrame) error {
	s.wc.cork()
	if ping {
		s.wc.writePing()
	}
	for _, f := range batch {
		if f.last != nil {
			// Free the id before the terminal frame leaves: a client that reuses the id
			// as soon as it reads stream.done must find it free.
			s.release(f.last)
		}
		if err := s.conn.Write(context.Background(), websocket.MessageText, f.data); err != nil {
			_ = s.wc.uncork()
			if werr := s.wc.writeErr(); werr != nil {
				return werr
			}
			return err
		}
		s.hub.obs.FrameSent(f.typ, len(f.data))
	}
	return s.wc.uncork()
}
