package realtime

import (
	"context"
	"io"
	"sync"
	"sync/atomic"
	"time"
)

// replayChunk is the largest text of one event replayed from the cache, so a hit
// streams like a generation instead of arriving as one block.
const replayChunk = 64

// Stream is one subscriber's view of a generation: text events (several upstream
// deltas merged when the reader is slower than the model), then exactly one terminal
// event (Done or Err), then io.EOF. Next is for one goroutine; Close may be called
// from any goroutine, any number of times, and must be called (or the Start context
// cancelled) once the caller is done with the stream.
type Stream struct {
	info StreamInfo
	e    *Engine
	src  *flight
	meta *plan     // shared with the flight when it launched it
	t0   time.Time // Start was called
	at   time.Time // subscribed (after validation and cache lookup)

	off       int // read offset into the flight's buffer (Next's goroutine only)
	stopWatch func() bool
	startCtx  context.Context

	gone      chan struct{} // closed when the subscription ends early (Close, Start ctx)
	goneOnce  sync.Once
	endOnce   sync.Once   // detach and accounting
	delivered atomic.Bool // the terminal event was handed out, or the stream closed
}

// subscribe makes the caller's Stream on f.
func (e *Engine) subscribe(ctx context.Context, f *flight, p *plan, t0 time.Time, coalesced bool) *Stream {
	s := &Stream{e: e, src: f, meta: p, t0: t0, at: time.Now(), gone: make(chan struct{}), startCtx: ctx,
		info: StreamInfo{Model: f.model, Cached: f.replay, Coalesced: coalesced}}
	e.st.subscribers.Add(1)
	s.stopWatch = context.AfterFunc(ctx, s.cancelled)
	return s
}

// Info returns what is known about the stream when Start returns.
func (s *Stream) Info() StreamInfo { return s.info }

// Next blocks until text or the terminal event is available, or ctx ends (then it
// returns ctx's error and may be called again). After the terminal event it returns
// io.EOF. When the subscription ended because the Start context was cancelled, the
// terminal event is Done with FinishReason "cancelled"; after Close, Next returns io.EOF.
//
// With the Start context (or one that never ends) the reader itself reads the
// upstream while it is the flight's only subscriber: one goroutine and no hand-off per
// token. With another context, or once a second subscriber joins, the flight runs in a
// goroutine of its own and the reader waits for its text.
func (s *Stream) Next(ctx context.Context) (Event, error) {
	s.src.begin(s.isStartCtx(ctx))
	limit := 0
	if s.src.replay {
		limit = replayChunk
	}
	for {
		if s.delivered.Load() {
			return Event{}, io.EOF
		}
		if s.left() {
			return s.deliver(Event{Done: s.done(&flightEnd{finish: "cancelled"})}), nil
		}
		text, end, wait := s.src.read(s.off, limit)
		switch {
		case text != "":
			s.off += len(text)
			return Event{Text: text}, nil
		case end != nil:
			return s.terminal(end), nil
		}
		if s.src.pull() {
			continue
		}
		select {
		case <-wait:
		case <-s.gone:
		case <-ctx.Done():
			if s.left() { // ctx is (or ends with) the Start context: the subscription ended
				continue
			}
			return Event{}, ctx.Err()
		}
	}
}

// isStartCtx reports whether only the Start context can end a wait on ctx. Then a
// reader may pull the flight: a step blocked on the upstream ends when the Start
// context does (leaving cancels the flight's context), so nothing else needs to
// interrupt it. With another context the flight runs in its own goroutine.
func (s *Stream) isStartCtx(ctx context.Context) bool {
	d := ctx.Done()
	return d == nil || d == s.startCtx.Done()
}

// All waits for the end of the generation and returns, as one event, all the text not
// read yet with the terminal Done or Err — what reading Next to the end and joining the
// text gives, with one wake-up instead of one per upstream chunk (the one-shot routes).
// Errors and io.EOF are as for Next.
func (s *Stream) All(ctx context.Context) (Event, error) {
	s.src.begin(s.isStartCtx(ctx))
	for {
		if s.delivered.Load() {
			return Event{}, io.EOF
		}
		if s.left() {
			return s.deliver(Event{Done: s.done(&flightEnd{finish: "cancelled"})}), nil
		}
		if s.src.pull() {
			continue
		}
		text, end, wait := s.src.rest(s.off)
		if end != nil {
			s.off += len(text)
			ev := s.terminal(end)
			ev.Text = text
			return ev, nil
		}
		select {
		case <-wait:
		case <-s.gone:
		case <-ctx.Done():
			if s.left() {
				continue
			}
			return Event{}, ctx.Err()
		}
	}
}

// terminal delivers the flight's end as this subscriber's terminal event.
func (s *Stream) terminal(end *flightEnd) Event {
	if end.err != nil {
		err := *end.err // each subscriber owns its copy
		return s.deliver(Event{Err: &err})
	}
	return s.deliver(Event{Done: s.done(end)})
}

// left reports whether the subscription ended early. It checks the Start context
// itself, not only gone (closed by AfterFunc in another goroutine), so a reader whose
// Next context is the Start context deterministically gets the cancelled Done.
func (s *Stream) left() bool {
	if s.startCtx.Err() != nil {
		return true
	}
	select {
	case <-s.gone:
		return true
	default:
		return false
	}
}

// done builds the subscriber's Done from the flight's end.
func (s *Stream) done(end *flightEnd) *Done {
	return &Done{FinishReason: end.finish, Usage: end.usage, TTFT: s.ttft(),
		Latency: time.Since(s.t0), Cached: s.info.Cached, Coalesced: s.info.Coalesced, Model: s.info.Model}
}

// ttft is the time from Start to the first text being available to this subscriber:
// a late joiner's first text is there at once.
func (s *Stream) ttft() time.Duration {
	first := s.src.firstTextAt()
	if first.IsZero() {
		return 0
	}
	if first.Before(s.at) {
		first = s.at
	}
	return first.Sub(s.t0)
}

// deliver hands ev to the reader as its terminal event and ends the subscription
// (a no-op when it already ended early).
func (s *Stream) deliver(ev Event) Event {
	s.delivered.Store(true)
	s.stopWatch()
	s.end(ev)
	return ev
}

// cancelled ends the subscription early because the Start context ended (it runs in
// the AfterFunc goroutine, possibly before subscribe set stopWatch, so it must not
// touch it); the reader still gets its terminal event.
func (s *Stream) cancelled() {
	s.goneOnce.Do(func() { close(s.gone) })
	s.end(Event{Done: s.done(&flightEnd{finish: "cancelled"})})
}

// Close leaves the stream; the upstream request is cancelled when the last subscriber
// leaves. A stream closed before its terminal event is logged as cancelled.
func (s *Stream) Close() {
	s.delivered.Store(true)
	s.stopWatch()
	s.cancelled()
}

// end detaches from the flight and writes the subscription's accounting, once.
func (s *Stream) end(ev Event) {
	s.endOnce.Do(func() {
		s.src.leave()
		s.e.st.subscribers.Add(-1)
		s.e.account(s, ev)
	})
}
