package ws

import (
	"context"
	"time"

	"github.com/coder/websocket"

	"github.com/hapa-project/hapa/realtime"
)

// Keepalive and key re-validation run on timers: each runs in a timer goroutine only
// when it fires, so an idle socket keeps no goroutine for them.

func (s *session) startTimers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pingTimer = time.AfterFunc(s.hub.cfg.PingInterval, s.keepalive)
	s.checkTimer = time.AfterFunc(s.hub.cfg.RevalidateInterval, s.revalidate)
}

func (s *session) stopTimers() {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.pingTimer.Stop()
	s.checkTimer.Stop()
}

// keepalive is the ping timer. A ping goes out every PingInterval (the writer sends
// it, between frames); a ping without a pong (from the client, seen by the reader or
// by coder/websocket) within PongTimeout drops the connection as a dead peer.
func (s *session) keepalive() {
	defer s.recoverPanic()
	interval, timeout := s.hub.cfg.PingInterval, s.hub.cfg.PongTimeout
	now := time.Now()
	s.mu.Lock()
	if s.ctx.Err() != nil || s.closed {
		s.mu.Unlock()
		return
	}
	if !s.pingSent.IsZero() {
		switch {
		case s.wc.pong.Load():
			if next := s.pingSent.Add(interval).Sub(now); next > 0 {
				s.pingSent = time.Time{}
				s.pingTimer.Reset(next)
				s.mu.Unlock()
				return
			}
		case now.Sub(s.pingSent) >= timeout:
			s.mu.Unlock()
			s.setClose(websocket.StatusAbnormalClosure, "pong timeout")
			s.closeNow()
			return
		default:
			s.pingTimer.Reset(s.pingSent.Add(timeout).Sub(now))
			s.mu.Unlock()
			return
		}
	}
	s.pingSent = now
	s.wc.pong.Store(false)
	s.pingTimer.Reset(min(interval, timeout))
	s.mu.Unlock()
	s.out.pushPing()
}

// revalidate re-checks the caller's key: revoked or expired closes with 4001; another
// failure (a database outage) is logged and the socket stays open.
func (s *session) revalidate() {
	defer s.recoverPanic()
	rctx, cancel := context.WithTimeout(s.ctx, 5*time.Second)
	e := s.hub.deps.Auth.Revalidate(rctx, s.caller)
	cancel()
	switch {
	case e == nil:
	case e.Code == realtime.CodeInvalidKey || e.Code == realtime.CodeKeyExpired || e.Code == realtime.CodeKeyRevoked:
		s.closeWithError(CloseAuthRevoked, string(e.Code)+": "+e.Message, e)
		return
	case s.ctx.Err() == nil:
		s.log.Warn("realtime: key revalidation failed; keeping the socket", "err", e)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.ctx.Err() == nil && !s.closed {
		s.checkTimer.Reset(s.hub.cfg.RevalidateInterval)
	}
}
