package web

import (
	"context"
	"sync"
	"time"

	"github.com/hapa-project/hapa/realtime"
)

// streamSink is one SSE dialect (the extension's code routes, the OpenAI routes) fed by
// relay.
type streamSink interface {
	committed() bool               // the header went out
	rejectEarly(e *realtime.Error) // answer with a plain error response (nothing sent yet)
	open()                         // send the header and the dialect's opening events
	handle(ev realtime.Event) bool // write one event; false ends the stream
	sendKeepAlive() bool           // write the dialect's keep-alive; false: the client is gone
	failed() bool                  // a write failed: the client is gone
}

// relay copies src to sink until the terminal event or the client leaves. The first
// event is awaited for up to one keep-alive interval before the header goes out, so an
// upstream failure before the first token still gets its real HTTP status; after that
// the stream is committed and errors become the dialect's error event. A cancelled
// Done means the client left: nobody reads the rest.
//
// The handler's goroutine reads src with the request's context, so a *realtime.Stream
// reads the upstream in this same goroutine (no flight goroutine, no hand-off per
// token). Keep-alives after a silence of keepAlive are written by a timer, under the
// same lock as the events; a keep-alive the client cannot take closes src, which ends
// the wait.
func relay(ctx context.Context, src eventSource, sink streamSink, keepAlive time.Duration) {
	ka := &keepAliver{sink: sink, src: src, every: keepAlive, last: time.Now()}
	ka.mu.Lock() // fire reads the timer under mu
	ka.timer = time.AfterFunc(keepAlive, ka.fire)
	ka.mu.Unlock()
	defer src.Close()
	defer ka.stop()
	for {
		ev, err := src.Next(ctx)
		if err != nil { // client gone (request context), or src closed
			return
		}
		if !ka.deliver(ev) {
			return
		}
	}
}

// keepAliver serialises a relay's writes: its events, and keep-alives from the timer.
type keepAliver struct {
	sink  streamSink
	src   eventSource
	every time.Duration

	mu    sync.Mutex
	timer *time.Timer
	last  time.Time // the last write (or the start)
	ended bool      // relay returned, or the client is gone: no more writes
}

// deliver writes one event; false ends the relay.
func (k *keepAliver) deliver(ev realtime.Event) bool {
	k.mu.Lock()
	defer k.mu.Unlock()
	switch {
	case k.ended || k.sink.failed():
		return false
	case !k.sink.committed() && ev.Err != nil && ev.Text == "":
		k.sink.rejectEarly(ev.Err)
		return false
	case ev.Done != nil && ev.Done.FinishReason == "cancelled":
		return false
	}
	k.sink.open()
	if !k.sink.handle(ev) || k.sink.failed() {
		return false
	}
	k.last = time.Now()
	return true
}

// fire is the timer: after a silence of every it commits the stream and writes a
// keep-alive; otherwise it waits for the rest of the interval.
func (k *keepAliver) fire() {
	k.mu.Lock()
	if k.ended {
		k.mu.Unlock()
		return
	}
	if quiet := time.Since(k.last); quiet < k.every {
		k.timer.Reset(k.every - quiet)
		k.mu.Unlock()
		return
	}
	k.sink.open()
	if k.sink.sendKeepAlive() && !k.sink.failed() {
		k.last = time.Now()
		k.timer.Reset(k.every)
		k.mu.Unlock()
		return
	}
	k.ended = true
	k.mu.Unlock()
	k.src.Close() // the client is gone: end relay's wait and the upstream request
}

// stop ends the keep-alives; a timer run in progress writes nothing after it.
func (k *keepAliver) stop() {
	k.mu.Lock()
	k.ended = true
	k.mu.Unlock()
	k.timer.Stop()
}
