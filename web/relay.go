package web

import (
	"context"
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

// nextResult is one Next call's outcome.
type nextResult struct {
	ev  realtime.Event
	err error
}

// relay copies src to sink until the terminal event or the client leaves. The first
// event is awaited for up to one keep-alive interval before the header goes out, so an
// upstream failure before the first token still gets its real HTTP status; after that
// the stream is committed and errors become the dialect's error event. A cancelled
// Done means the client left: nobody reads the rest. src is read on its own goroutine
// so keep-alives go out while the model is silent; the goroutine ends with relay.
func relay(ctx context.Context, src eventSource, sink streamSink, keepAlive time.Duration) {
	defer src.Close()
	events := make(chan nextResult)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		for {
			ev, err := src.Next(ctx)
			select {
			case events <- nextResult{ev, err}:
			case <-quit:
				return
			}
			if err != nil || ev.Done != nil || ev.Err != nil {
				return
			}
		}
	}()
	timer := time.NewTimer(keepAlive)
	defer timer.Stop()
	for !sink.failed() {
		select {
		case res := <-events:
			if res.err != nil { // client gone (request context) or stream closed
				return
			}
			if !sink.committed() && res.ev.Err != nil && res.ev.Text == "" {
				sink.rejectEarly(res.ev.Err)
				return
			}
			if d := res.ev.Done; d != nil && d.FinishReason == "cancelled" {
				return
			}
			sink.open()
			if !sink.handle(res.ev) {
				return
			}
		case <-timer.C:
			sink.open()
			if !sink.sendKeepAlive() {
				return
			}
		case <-ctx.Done():
			return
		}
		timer.Reset(keepAlive)
	}
}
