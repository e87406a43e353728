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

// run relays the stream (see relay). When the client leaves, the request context ends
// the subscription and the engine cancels the upstream request; a committed stream
// ends an error with one `data: {"error":…}` event, then [DONE] (vLLM's behaviour).
func (rl *openAIRelay) run() {
	rl.rc = http.NewResponseController(rl.w)
	relay(rl.r.Context(), rl.src, rl, rl.keepAlive)
}

func (rl *openAIRelay) committed() bool     { return rl.started }
func (rl *openAIRelay) failed() bool        { return rl.err != nil }
func (rl *openAIRelay) sendKeepAlive() bool { rl.write(openAIKeepAlive); return rl.err == nil }

func (rl *openAIRelay) rejectEarly(e *realtime.Error) { rl.srv.writeOpenAIError(rl.w, rl.r, e) }

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
