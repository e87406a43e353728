package realtime

import (
	"context"
	"io"
	"sync"
	"time"

	"github.com/hapa-project/hapa/vllm"
)

// replayChunk is the largest text of one event replayed from the cache, so a hit
// streams like a generation instead of arriving as one block.
const replayChunk = 64

// Stream is one subscriber's view of a generation: text events (several upstream
// deltas merged when the reader is slower than the model), then exactly one terminal
// event (Done or Err), then io.EOF. Next is for one goroutine; Close may be called
// from any goroutine, any number of times, and must be called (or the Start context
// cancelled) once the caller is done with the stream.
//
// The subscription ends once: with its terminal event, or early — Close, the Start
// context, or Abort (a revoked key). Its accounting (usage.go, requestlog.go) is done
// then, from exactly the text handed out: mu orders the reader's taking of text with
// an early end in another goroutine, so no text is handed out after the end and none
// handed out is left uncounted.
type Stream struct {
	info StreamInfo
	e    *Engine
	src  *flight
	meta *plan     // shared with the flight when it launched it
	t0   time.Time // Start was called
	at   time.Time // subscribed (after validation and cache lookup)
	res  Reservation

	stopWatch func() bool
	startCtx  context.Context
	gone      chan struct{} // closed when the subscription ends early: a waiting Next wakes

	mu        sync.Mutex
	off       int   // read offset into the flight's buffer
	ended     bool  // the subscription ended and was accounted
	delivered bool  // the terminal event was handed out, or the stream closed
	final     Event // the terminal event of an early end
	usage     vllm.Usage
	upstream  vllm.Usage
}

// subscribe makes the caller's Stream on f; res is its quota reservation (nil: none).
func (e *Engine) subscribe(ctx context.Context, f *flight, p *plan, t0 time.Time, coalesced bool, res Reservation) *Stream {
	s := &Stream{e: e, src: f, meta: p, t0: t0, at: time.Now(), gone: make(chan struct{}), startCtx: ctx, res: res,
		info: StreamInfo{Model: f.model, Cached: f.replay, Coalesced: coalesced}}
	if p.req.Kind == KindCompletion && e.deps.CompletionIDs != nil {
		s.info.CompletionID = e.deps.CompletionIDs.New(p.req.Caller, CompletionLanguage(p.req.Language), f.model, s.at)
	}
	e.st.subscribers.Add(1)
	f.own(s)
	e.track(s)
	s.stopWatch = context.AfterFunc(ctx, s.cancelled)
	return s
}

// Info returns what is known about the stream when Start returns.
func (s *Stream) Info() StreamInfo { return s.info }

// Usage returns the tokens delivered to this subscriber and the upstream tokens it is
// charged (usage.go); both are final once the terminal event was handed out.
func (s *Stream) Usage() (delivered, upstream vllm.Usage) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.usage, s.upstream
}

// Next blocks until text or the terminal event is available, or ctx ends (then it
// returns ctx's error and may be called again). After the terminal event it returns
// io.EOF. When the subscription ended because the Start context was cancelled, the
// terminal event is Done with FinishReason "cancelled"; after Abort it is Abort's
// error; after Close, Next returns io.EOF.
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
		s.mu.Lock()
		if ev, done := s.early(); done {
			s.mu.Unlock()
			return ev, nil
		}
		if s.delivered {
			s.mu.Unlock()
			return Event{}, io.EOF
		}
		text, end, wait := s.src.read(s.off, limit)
		switch {
		case text != "":
			s.off += len(text)
			s.mu.Unlock()
			return Event{Text: text}, nil
		case end != nil:
			ev := s.terminal(end)
			s.mu.Unlock()
			return ev, nil
		}
		s.mu.Unlock()
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

// early hands out the terminal event of a subscription that ended early (or ends it
// now when the Start context is gone); s.mu is held.
func (s *Stream) early() (Event, bool) {
	if s.delivered {
		return Event{}, false
	}
	if !s.ended && s.left() {
		s.endLocked(Event{Done: s.done(&flightEnd{finish: "cancelled"})})
	}
	if !s.ended {
		return Event{}, false
	}
	s.delivered = true
	s.stopWatch()
	return s.final, true
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
		s.mu.Lock()
		if ev, done := s.early(); done {
			s.mu.Unlock()
			return ev, nil
		}
		if s.delivered {
			s.mu.Unlock()
			return Event{}, io.EOF
		}
		s.mu.Unlock()
		if s.src.pull() {
			continue
		}
		s.mu.Lock()
		text, end, wait := s.src.rest(s.off)
		if end != nil && !s.ended {
			s.off += len(text)
			ev := s.terminal(end)
			ev.Text = text
			s.mu.Unlock()
			return ev, nil
		}
		s.mu.Unlock()
		if end != nil {
			continue // ended early meanwhile: its terminal event
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

// terminal delivers the flight's end as this subscriber's terminal event; s.mu is held.
func (s *Stream) terminal(end *flightEnd) Event {
	var ev Event
	if end.err != nil {
		err := *end.err // each subscriber owns its copy
		ev = Event{Err: &err}
	} else {
		ev = Event{Done: s.done(end)}
	}
	s.delivered = true
	s.stopWatch()
	s.endLocked(ev)
	return s.final // with its usage
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

// done builds the subscriber's Done from the flight's end (its Usage is filled in by
// endLocked).
func (s *Stream) done(end *flightEnd) *Done {
	return &Done{FinishReason: end.finish, TTFT: s.ttft(),
		Latency: time.Since(s.t0), Cached: s.info.Cached, Coalesced: s.info.Coalesced, Model: s.info.Model,
		CompletionID: s.info.CompletionID}
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

// cancelled ends the subscription early because the Start context ended (it runs in
// the AfterFunc goroutine, possibly before subscribe set stopWatch, so it must not
// touch it); the reader still gets its terminal event.
func (s *Stream) cancelled() {
	s.mu.Lock()
	if !s.ended {
		s.endLocked(Event{Done: s.done(&flightEnd{finish: "cancelled"})})
	}
	s.mu.Unlock()
	s.wake()
}

// Abort ends the subscription early with err as its terminal event (a revoked key:
// E4007). The upstream request is cancelled when no other subscriber remains.
func (s *Stream) Abort(err *Error) {
	s.mu.Lock()
	if !s.ended {
		s.endLocked(Event{Err: err})
	}
	s.mu.Unlock()
	s.wake()
}

func (s *Stream) wake() {
	select {
	case <-s.gone:
	default:
		close(s.gone)
	}
}

// Close leaves the stream; the upstream request is cancelled when the last subscriber
// leaves. A stream closed before its terminal event is logged as cancelled.
func (s *Stream) Close() {
	s.mu.Lock()
	s.delivered = true
	if !s.ended {
		s.endLocked(Event{Done: s.done(&flightEnd{finish: "cancelled"})})
	}
	s.mu.Unlock()
	s.stopWatch()
	s.wake()
}

// endLocked ends the subscription once (s.mu held): it leaves the flight with what
// was handed out, records the usage in ev (a Done's Usage) and writes the
// subscription's accounting. An early end keeps ev as the terminal event to hand out.
func (s *Stream) endLocked(ev Event) {
	if s.ended {
		return
	}
	s.ended = true
	s.usage, s.upstream = s.src.leave(s, s.off)
	if ev.Done != nil {
		ev.Done.Usage = s.usage
	} else if ev.Err != nil {
		u := s.usage
		ev.Usage = &u
	}
	s.final = ev
	s.e.untrack(s)
	s.e.st.subscribers.Add(-1)
	s.e.account(s, ev)
}
