package ws

import (
	"time"

	"github.com/hapa-project/hapa/realtime"
)

// frameVerdict is frameLimiter's answer for one client frame.
type frameVerdict int

const (
	frameOK           frameVerdict = iota
	frameRejectNotify              // drop the frame and answer error E4004 (first rejection of a window)
	frameReject                    // drop the frame silently (already notified in this window)
	frameViolation                 // sustained flood: close 1008
)

// frameLimiter is a per-socket token bucket over client frames (reader goroutine
// only). A rejected frame is dropped; the client hears about it once per second; more
// than burst rejections within one second is a flood and closes the socket.
type frameLimiter struct {
	rate, burst float64
	tokens      float64
	last        time.Time
	window      time.Time // start of the current rejection window
	rejected    int
	violated    bool
	owed        bool      // a rejection notice is due: a window's first rejection owes one
	notified    time.Time // the last notice; notices are at least a second apart
	notifiedWas time.Time // the one before (passOnNotice restores it)
}

func newFrameLimiter(rate float64, burst int) *frameLimiter {
	return &frameLimiter{rate: rate, burst: float64(burst), tokens: float64(burst)}
}

func (l *frameLimiter) allow(now time.Time) frameVerdict {
	if l.violated {
		return frameViolation
	}
	if !l.last.IsZero() {
		l.tokens = min(l.burst, l.tokens+now.Sub(l.last).Seconds()*l.rate)
	}
	l.last = now
	if l.tokens >= 1 {
		l.tokens--
		return frameOK
	}
	if now.Sub(l.window) >= time.Second {
		l.window, l.rejected = now, 0
	}
	l.rejected++
	if float64(l.rejected) > l.burst {
		l.violated = true
		return frameViolation
	}
	if l.rejected == 1 {
		l.owed = true
	}
	if l.owed && (l.notified.IsZero() || now.Sub(l.notified) >= time.Second) {
		l.owed = false
		l.notifiedWas, l.notified = l.notified, now
		return frameRejectNotify
	}
	return frameReject
}

// passOnNotice hands a frameRejectNotify verdict that was not answered with an error
// (the frame was a stream.cancel, honoured over the rate) to the next rejected frame.
func (l *frameLimiter) passOnNotice() {
	l.owed = true
	l.notified = l.notifiedWas
}

// retryAfter is how long until one frame is allowed again.
func (l *frameLimiter) retryAfter() time.Duration {
	d := time.Duration((1 - l.tokens) / l.rate * float64(time.Second))
	return max(d, time.Millisecond)
}

// rejectFrame answers a frame over the frame rate: a create gets its stream.error
// E4004 (so the client does not wait for a stream that never starts); anything else
// gets one error E4004 per second.
func (s *session) rejectFrame(ev ClientEvent, perr *realtime.Error, notify bool, retry time.Duration) {
	e := realtime.NewError(realtime.CodeRateLimited, "too many frames on this socket")
	e.RetryAfter = retry
	if perr == nil && (ev.Type == EventCompletionCreate || ev.Type == EventGenerationCreate) {
		s.mu.Lock()
		_, inFlight := s.streams[ev.ID]
		s.mu.Unlock()
		if !inFlight { // a stream.error would end the live stream of that id
			s.push(EventStreamError, streamErrorFrame(ev.ID, s.tr(e), nil))
			return
		}
	}
	if notify {
		s.push(EventError, errorFrame(ev.EventID, s.tr(e)))
	}
}
