package realtime

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
	"unicode/utf8"

	"github.com/hapa-project/hapa/vllm"
)

// A flight is one upstream generation and the text it produced so far. Its
// subscribers (Streams) each keep a read offset into the one growing buffer, so a late
// joiner first reads everything produced, then live text, and a slow reader gets the
// text merged — nothing is dropped. A lone reader may read the upstream itself (it
// pulls the flight); with several, the flight's own goroutine reads it, so that no
// reader waits on another. The buffer is bounded by MaxOutputBytes (the output of
// max_tokens is far smaller).
//
// The flight's context belongs to the flight, not to its first caller: it derives from
// the engine's and is cancelled when the last subscriber leaves (which closes the
// upstream connection, making vLLM abort) or when the engine stops.
type flight struct {
	e      *Engine
	key    string // coalescing key; "" for a private flight
	model  string
	replay bool   // a cache hit: finished from the start, read in small chunks
	text   string // a replay's text, shared with the cache entry (buf stays empty)
	ctx    context.Context
	cancel context.CancelFunc

	// A launched flight is lazy: it has not started with launch. Its first subscriber
	// to read pulls it (Next and All step the upstream in the reader's goroutine: no
	// flight goroutine, no hand-off per token), or it is handed to a goroutine of its
	// own (see handOff), or leaving abandons it without an upstream request. A cache
	// replay is born finished (flightReplay) and takes none of these transitions.
	plan  *plan
	state atomic.Int32 // lazyPending → lazyPulled (→ lazyPushed), or lazyPending → lazyAbandoned
	// unwatch stops the watch that hands a pending or pulled flight to a goroutine when
	// its context ends (the last subscriber left, engine shutdown): nothing else would
	// end it while its reader is elsewhere, and Run waits for every flight.
	unwatch func() bool
	// stepMu is held while a step runs, by the puller or, after a hand-off, the flight's
	// goroutine; up and over belong to its holder.
	stepMu sync.Mutex
	up     *upstreamRead // nil before the first step
	over   bool          // concluded: the end is published
	away   *time.Timer   // hands a pulled flight off when its reader stays away (pullAway)

	mu      sync.Mutex
	subs    int  // subscribers attached
	left    bool // the last subscriber left before the end: no more joins
	buf     []byte
	firstAt time.Time     // first text appended
	notify  chan struct{} // closed on the next change when waiting is set
	waiting bool
	ended   chan struct{} // closed at the end when endWait is set (All)
	endWait bool
	end     *flightEnd // nil while running
	replica string     // the vLLM replica serving the flight, once its stream opened

	// Token accounting (usage.go), under mu.
	marks         []tokenMark // completion tokens read by buffer length
	tokens        int         // completion tokens read so far
	prompt        int         // vLLM's prompt count (0 until it gave one)
	estimate      int         // promptEstimate of the upstream request
	sent          bool        // the upstream request reached vLLM
	owners        []*Stream   // subscribers in join order; owners[0] is charged upstream tokens
	charged       int         // completion tokens charged to earlier owners
	promptCharged bool
}

// flightEnd is how a flight finished: a finish reason with usage, or an error.
type flightEnd struct {
	finish string
	usage  vllm.Usage
	err    *Error
}

// pullAway is how long a pulled flight waits for its reader to come back (its write to
// a slow client may block) before it is handed to a goroutine of its own: the upstream
// is not left unread until the client's idle limit, meant for a silent model, cuts it.
const pullAway = time.Second

// Flight states.
const (
	lazyPending   int32 = iota
	lazyPulled          // stepped by its reader (Stream.Next or All)
	lazyPushed          // run by a goroutine of its own
	lazyAbandoned       // ended before it started
	flightReplay        // a cache replay: finished from the start, never run
)

// launch prepares a flight for p with one subscriber; its first reader starts it (see
// flight.begin). The caller holds e.mu and has checked that the engine is not closed.
// A shared flight is registered under key for identical requests to join.
func (e *Engine) launch(p *plan, key string, shared bool) *flight {
	f := &flight{e: e, model: p.upstream.Model, plan: p, subs: 1, notify: make(chan struct{}),
		estimate: promptEstimate(p.upstream)}
	// A mark per token read (usage.go): sized for a short answer up front, since growing
	// from nil took six allocations for 16 tokens (docs/performance.md).
	f.marks = make([]tokenMark, 0, min(max(p.upstream.MaxTokens, 0), 62)+2)
	f.ctx, f.cancel = context.WithCancel(e.base)
	if shared {
		f.key = key
		e.flights[key] = f
	}
	e.wg.Add(1)
	e.st.flights.Add(1)
	f.unwatch = context.AfterFunc(f.ctx, f.ctxEnded)
	return f
}

// begin starts a lazy flight that has not started: pulled by the caller (pull), or
// in a goroutine of its own. A flight with several subscribers is never pulled, so
// that no subscriber paces another. It does nothing for other flights, or when the
// flight already started, was abandoned or is a replay.
func (f *flight) begin(pull bool) {
	if !f.state.CompareAndSwap(lazyPending, lazyPulled) {
		if !pull {
			f.handOff()
		}
		return
	}
	f.mu.Lock()
	shared := f.subs > 1
	f.mu.Unlock()
	if !pull || shared {
		f.handOff()
	}
}

// handOff moves a pulled flight to a goroutine of its own, which runs the rest of it
// once the current step (if any) returns: its reader reads with a context other than
// Start's, a second subscriber joined, its reader stayed away (pullAway), or the
// flight's context ended while its reader may be busy elsewhere.
func (f *flight) handOff() {
	if f.state.CompareAndSwap(lazyPulled, lazyPushed) {
		go f.run()
	}
}

// pull runs one step in the caller's goroutine when the flight is pulled and not over;
// false means the caller should wait for the flight's goroutine instead.
func (f *flight) pull() bool {
	if f.state.Load() != lazyPulled {
		return false
	}
	f.stepMu.Lock()
	defer f.stepMu.Unlock()
	if f.over || f.state.Load() != lazyPulled {
		return false
	}
	if f.away != nil {
		f.away.Stop()
	}
	f.step()
	// Events that queued up while the reader was writing are taken now, merged into
	// its next read: one write for them instead of one each (as a flight goroutine's
	// buffer merges them for a reader that lags).
	for !f.over && f.up != nil && f.up.s.Buffered() {
		f.step()
	}
	switch {
	case f.over:
	case f.away == nil:
		f.away = time.AfterFunc(pullAway, f.handOff)
	default:
		f.away.Reset(pullAway)
	}
	return true
}

// ctxEnded is the watch of a lazy flight: a pending one is abandoned, a pulled one is
// handed off so that it ends now even when its reader is not reading.
func (f *flight) ctxEnded() {
	f.abandon()
	f.handOff()
}

// abandon ends a lazy flight that never started: its subscriber left first, or the
// flight's context ended (engine shutdown). The end is what a step would have
// published for a cancelled flight, so a subscriber still reading gets the shutdown
// error.
func (f *flight) abandon() {
	if f.state.CompareAndSwap(lazyPending, lazyAbandoned) {
		f.cancel()
		f.finish(&flightEnd{err: f.upstreamError(context.Canceled, f.plan.req, CodeModelUnavailable)})
		f.e.st.flights.Add(-1)
		f.e.wg.Done()
	}
}

// replayFlight is a finished flight holding a cache entry.
func replayFlight(e *Engine, p *plan, ent cacheEntry) *flight {
	model := ent.Model
	if model == "" {
		model = p.upstream.Model
	}
	f := &flight{e: e, model: model, replay: true, subs: 1, text: ent.Text, firstAt: time.Now(),
		end: &flightEnd{finish: ent.FinishReason, usage: ent.Usage}}
	f.state.Store(flightReplay)
	return f
}

// join attaches one more subscriber unless the flight is being abandoned. A pulled
// flight is handed off: its first reader must not pace the joiner.
func (f *flight) join() bool {
	f.mu.Lock()
	if f.left {
		f.mu.Unlock()
		return false
	}
	f.subs++
	f.mu.Unlock()
	f.handOff()
	return true
}

// own adds s to the flight's owners: it may be charged upstream tokens (usage.go).
func (f *flight) own(s *Stream) {
	if f.replay {
		return
	}
	f.mu.Lock()
	f.owners = append(f.owners, s)
	f.mu.Unlock()
}

// leave detaches subscriber s, which has read the flight's first off bytes, and
// returns the usage delivered to it and the upstream tokens it is charged. The last
// subscriber leaving a running flight cancels it.
func (f *flight) leave(s *Stream, off int) (delivered, upstream vllm.Usage) {
	if f.replay {
		return f.deliveredAt(off), vllm.Usage{}
	}
	f.mu.Lock()
	delivered, upstream = f.deliveredAt(off), f.chargeOwner(s)
	f.subs--
	last := f.subs == 0 && f.end == nil
	if last {
		f.left = true
	}
	f.mu.Unlock()
	if last { // a launched flight (a replay has its end from the start)
		// A pending flight is abandoned here, not by the watch that cancel would fire
		// in a goroutine of its own: it is gone when the subscriber's Close returns. A
		// pulled one is handed off after the cancel, so its goroutine (or the step
		// running now) concludes it at once.
		f.unwatch()
		f.abandon()
		f.cancel()
		f.handOff()
		f.unregister()
	}
	return delivered, upstream
}

// unregister removes the flight from the coalescing table (when it is still there).
func (f *flight) unregister() {
	if f.key == "" {
		return
	}
	f.e.mu.Lock()
	if f.e.flights[f.key] == f {
		delete(f.e.flights, f.key)
	}
	f.e.mu.Unlock()
}

// appendText adds upstream text and the token counts read with it (usage.go); false
// when the buffer would exceed its bound.
func (f *flight) appendText(s string, completion, prompt int) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.buf)+len(s) > f.e.cfg.MaxOutputBytes {
		return false
	}
	if s != "" {
		if f.firstAt.IsZero() {
			f.firstAt = time.Now()
		}
		f.buf = append(f.buf, s...)
		f.wake()
	}
	f.tokensRead(completion, prompt)
	return true
}

// finish publishes the end once.
func (f *flight) finish(end *flightEnd) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.end == nil {
		f.end = end
		f.wake()
		if f.endWait {
			close(f.ended)
		}
	}
}

// wake signals waiting readers; f.mu is held. A channel is made only when someone
// waits, so a flight whose readers keep up allocates one per wake-up, not per token.
func (f *flight) wake() {
	if f.waiting {
		close(f.notify)
		f.notify = make(chan struct{})
		f.waiting = false
	}
}

// read returns the text after off (at most limit bytes, cut at a rune boundary, when
// limit > 0), else the end when the flight is over, else a channel closed on the next
// change. A replay's text is read in place: it never changes.
func (f *flight) read(off, limit int) (text string, end *flightEnd, wait <-chan struct{}) {
	if f.replay {
		if off < len(f.text) {
			return f.text[off:cutEnd(f.text, off, limit)], nil, nil
		}
		return "", f.end, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if off < len(f.buf) {
		return string(f.buf[off:cutEnd(f.buf, off, limit)]), nil, nil
	}
	if f.end != nil {
		return "", f.end, nil
	}
	f.waiting = true
	return "", nil, f.notify
}

// cutEnd is where a read of t after off ends: at most limit bytes (limit > 0), cut
// at a rune boundary, and a rune longer than limit taken whole.
func cutEnd[T ~string | ~[]byte](t T, off, limit int) int {
	n := len(t)
	if limit <= 0 || n-off <= limit {
		return n
	}
	n = off + limit
	for n > off && !utf8.RuneStart(t[n]) {
		n--
	}
	if n == off { // a rune longer than limit: take it whole
		n++
		for n < len(t) && !utf8.RuneStart(t[n]) {
			n++
		}
	}
	return n
}

// rest returns the text after off with the end once the flight is over, else a
// channel closed at the end (text arriving meanwhile wakes nobody through it).
func (f *flight) rest(off int) (text string, end *flightEnd, wait <-chan struct{}) {
	if f.replay {
		return f.text[min(off, len(f.text)):], f.end, nil
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.end != nil {
		return string(f.buf[min(off, len(f.buf)):]), f.end, nil
	}
	if !f.endWait {
		f.endWait = true
		f.ended = make(chan struct{})
	}
	return "", nil, f.ended
}

// firstTextAt returns when the first text arrived (zero before).
func (f *flight) firstTextAt() time.Time {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.firstAt
}
