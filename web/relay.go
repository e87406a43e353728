package web

import (
	"context"
	"errors"
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
// Done means the client left: nobody reads the rest. The keep-alive timer is part of
// the wait (NextTick), so keep-alives go out while the model is silent without a
// second goroutine per stream (one hand-off fewer per token).
func relay(ctx context.Context, src eventSource, sink streamSink, keepAlive time.Duration) {
	defer src.Close()
	timer := time.NewTimer(keepAlive)
	defer timer.Stop()
	for !sink.failed() {
		ev, err := src.NextTick(ctx, timer.C)
		switch {
		case errors.Is(err, realtime.ErrTick):
			sink.open()
			if !sink.sendKeepAlive() {
				return
			}
			timer.Reset(keepAlive)
			continue
		case err != nil: // client gone (request context) or stream closed
			return
		}
		if !sink.committed() && ev.Err != nil && ev.Text == "" {
			sink.rejectEarly(ev.Err)
			return
		}
		if d := ev.Done; d != nil && d.FinishReason == "cancelled" {
			return
		}
		sink.open()
		if !sink.handle(ev) {
			return
		}
		timer.Reset(keepAlive)
	}
}
