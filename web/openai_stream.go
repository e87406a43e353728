package web

import (
	"bytes"
	"net/http"
	"time"

	"github.com/hapa-project/hapa/realtime"
)

// openAIKeepAlive is the SSE comment written after a silence of keepAlive; OpenAI's
// SDKs and vLLM's clients skip comment lines. (The extension routes cannot use one:
// the extension appends any non-data line to the code. No HAPA client reads this route.)
var openAIKeepAlive = []byte(": keep-alive\n\n")

// openAIRelay copies one engine stream to an OpenAI-style SSE response.
type openAIRelay struct {
	srv       *Server
	w         http.ResponseWriter
	r         *http.Request
	src       eventSource
	f         openAIFormat
	usage     bool // stream_options.include_usage
	keepAlive time.Duration

	rc      *http.ResponseController
	started bool
	err     error // first write error: the client is gone
}

// run relays until the terminal event or the client leaves. The first event is
// awaited for up to one keep-alive interval before the header goes out, so an
// upstream failure before the first token gets its real status and the OpenAI
// envelope; once the stream is committed an error becomes one `data: {"error":…}`
// event, then [DONE] (vLLM's behaviour). When the client leaves, the request context
// ends the subscription and the engine cancels the upstream request.
func (rl *openAIRelay) run() {
	defer rl.src.Close()
	ctx := rl.r.Context()
	rl.rc = http.NewResponseController(rl.w)
	events := make(chan nextResult)
	quit := make(chan struct{})
	defer close(quit)
	go func() {
		for {
			ev, err := rl.src.Next(ctx)
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
	timer := time.NewTimer(rl.keepAlive)
	defer timer.Stop()
	for rl.err == nil {
		select {
		case res := <-events:
			if res.err != nil {
				return
			}
			if !rl.started && res.ev.Err != nil && res.ev.Text == "" {
				rl.srv.writeOpenAIError(rl.w, rl.r, res.ev.Err)
				return
			}
			if d := res.ev.Done; d != nil && d.FinishReason == "cancelled" {
				return // the client left: nobody reads the rest
			}
			rl.open()
			if !rl.handle(res.ev) {
				return
			}
		case <-timer.C:
			rl.open()
			rl.write(openAIKeepAlive)
		case <-ctx.Done():
			return
		}
		timer.Reset(rl.keepAlive)
	}
}

// open commits the stream: the header and, for chat, the role chunk.
func (rl *openAIRelay) open() {
	if rl.started {
		return
	}
	rl.started = true
	h := rl.w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Del("Content-Length")
	rl.w.WriteHeader(http.StatusOK)
	if c := rl.f.roleChunk(); c != nil {
		rl.event(*c)
	} else {
		rl.flush()
	}
}

// handle writes one event; it reports whether the stream goes on. Text arriving with
// the terminal event is sent first, in its own chunk.
func (rl *openAIRelay) handle(ev realtime.Event) bool {
	if ev.Text != "" {
		rl.event(rl.f.textChunk(ev.Text, nil))
	}
	switch {
	case ev.Err != nil:
		rl.write(rl.srv.openAIErrorEvent(rl.r, ev.Err))
		rl.write(sseDone)
		return false
	case ev.Done != nil:
		finish := openAIFinish(ev.Done.FinishReason)
		rl.event(rl.f.textChunk("", &finish))
		if rl.usage {
			rl.event(rl.f.usageChunk(openAIUsageOf(ev.Done)))
		}
		rl.write(sseDone)
		return false
	}
	return true
}

// event writes v as one `data: <json>\n\n` event in one write.
func (rl *openAIRelay) event(v openAIObject) {
	b := append([]byte("data: "), bytes.TrimRight(openAIJSON(v), "\n")...)
	rl.write(append(b, "\n\n"...))
}

// write sends b and flushes it; after the first failure it does nothing.
func (rl *openAIRelay) write(b []byte) {
	if rl.err != nil {
		return
	}
	if _, err := rl.w.Write(b); err != nil {
		rl.err = err
		return
	}
	rl.flush()
}

func (rl *openAIRelay) flush() {
	if err := rl.rc.Flush(); err != nil && rl.err == nil {
		rl.err = err
	}
}
