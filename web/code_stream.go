package web

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/hapa-project/hapa/realtime"
)

// eventSource is what the SSE relay reads; *realtime.Stream implements it. Close may
// be called from another goroutine while Next waits, and ends the wait.
type eventSource interface {
	Next(ctx context.Context) (realtime.Event, error)
	Close()
}

// allReader is implemented by a source that can hand out the rest of a stream at its
// end in one event (*realtime.Stream: one wake-up instead of one per upstream chunk).
type allReader interface {
	All(ctx context.Context) (realtime.Event, error)
}

// nextAll returns the rest of src as one event: text joined, then the terminal Done or
// Err (or Next's error).
func nextAll(ctx context.Context, src eventSource) (realtime.Event, error) {
	if a, ok := src.(allReader); ok {
		return a.All(ctx)
	}
	var text []byte
	for {
		ev, err := src.Next(ctx)
		if err != nil {
			return realtime.Event{}, err
		}
		text = append(text, ev.Text...)
		if ev.Done != nil || ev.Err != nil {
			ev.Text = string(text)
			return ev, nil
		}
	}
}

// sseStyle selects the event flavour of one route.
type sseStyle struct {
	enhanced  bool   // X-Enhanced-Mode
	textType  string // "token" (extension) or "code" (landing page)
	extension bool   // is_complete fields on token/done (docs/compatibility.md, "SSE framing")
	legacy    bool   // metadata first and stream_end last (docs/compatibility.md, "Legacy routes")
}

// handleCodeStream serves POST /api/v1/code/generate/stream[?enhanced=true].
func (s *Server) handleCodeStream(w http.ResponseWriter, r *http.Request) {
	var body codeGenerationRequest
	if err := decodeJSON(r, &body); err != nil {
		s.writeSSEError(w, r, err)
		return
	}
	if err := body.validate(); err != nil {
		s.writeSSEError(w, r, err)
		return
	}
	s.streamCode(w, r, body.engineRequest(r),
		sseStyle{enhanced: queryBool(r, "enhanced"), textType: "token", extension: true})
}

// streamCode starts req on the engine and relays it as SSE.
func (s *Server) streamCode(w http.ResponseWriter, r *http.Request, req realtime.Request, st sseStyle) {
	if s.deps.Engine == nil {
		s.writeSSEError(w, r, errNoEngine())
		return
	}
	stream, err := s.startStream(r.Context(), req)
	if err != nil {
		s.writeSSEError(w, r, err)
		return
	}
	rl := &sseRelay{srv: s, w: w, r: r, src: stream, info: stream.Info(), style: st, keepAlive: sseKeepAlive}
	rl.run()
}

// errNoEngine is the answer of the code routes while no engine is wired.
func errNoEngine() error {
	return realtime.NewError(realtime.CodeModelUnavailable, "The generation engine is not configured")
}

// sseRelay copies one engine stream to an SSE response.
type sseRelay struct {
	srv       *Server
	w         http.ResponseWriter
	r         *http.Request
	src       eventSource
	info      realtime.StreamInfo
	style     sseStyle
	keepAlive time.Duration

	out *sseWriter
	cut markerCut
}

// run relays the stream (see relay).
func (rl *sseRelay) run() {
	rl.out = newSSEWriter(rl.w, rl.srv.now)
	relay(rl.r.Context(), rl.src, rl, rl.keepAlive)
}

func (rl *sseRelay) committed() bool     { return rl.out.started }
func (rl *sseRelay) failed() bool        { return rl.out.err != nil }
func (rl *sseRelay) sendKeepAlive() bool { return rl.out.keepAlive() == nil }

func (rl *sseRelay) rejectEarly(e *realtime.Error) { rl.srv.writeSSEError(rl.w, rl.r, e) }

// open commits the stream: header, the legacy metadata event, and the start event.
func (rl *sseRelay) open() {
	if rl.out.started {
		return
	}
	rl.out.start(rl.style.enhanced)
	if rl.style.legacy {
		meta, _ := json.Marshal(legacyMeta{
			SessionStart: rl.srv.now().UTC().Format(time.RFC3339), RequestID: requestIDFrom(rl.r.Context()),
			UserID: callerUserID(rl.r.Context()), Model: rl.info.Model, Cached: rl.info.Cached,
			Coalesced: rl.info.Coalesced, Streaming: true,
		})
		rl.out.begin("metadata")
		rl.out.raw("content", meta)
		_ = rl.out.end()
	}
	rl.out.begin("start")
	rl.out.field("content")
	rl.out.buf = append(rl.out.buf, `""`...)
	rl.out.stamp()
	_ = rl.out.end()
}

// handle writes one event; it reports whether the stream goes on.
func (rl *sseRelay) handle(ev realtime.Event) bool {
	if ev.Text != "" {
		if t, _ := rl.cut.push(ev.Text); t != "" {
			// After a cut the rest of the text is read and dropped, so the done
			// event still carries the real usage.
			_ = rl.out.text(rl.style.textType, t, rl.style.extension)
		}
	}
	switch {
	case ev.Err != nil:
		if t := rl.cut.flush(); t != "" {
			_ = rl.out.text(rl.style.textType, t, rl.style.extension)
		}
		rl.errorEvent(ev.Err, ev.Usage)
		return false
	case ev.Done != nil:
		if t := rl.cut.flush(); t != "" {
			_ = rl.out.text(rl.style.textType, t, rl.style.extension)
		}
		rl.doneEvent(ev.Done)
		return false
	}
	return true
}

// doneEvent writes done (with metadata), stream_end for the legacy route, then [DONE].
func (rl *sseRelay) doneEvent(d *realtime.Done) {
	meta, _ := json.Marshal(doneMetadata(d))
	rl.out.begin("done")
	rl.out.field("content")
	rl.out.buf = append(rl.out.buf, `""`...)
	rl.out.stamp()
	if rl.style.extension {
		rl.out.buf = append(rl.out.buf, `,"is_complete":true`...)
	}
	rl.out.raw("metadata", meta)
	_ = rl.out.end()
	if rl.style.legacy {
		_ = rl.out.write([]byte(`data: {"type":"stream_end","content":"success"}` + "\n\n"))
	}
	_ = rl.out.doneLine()
}

// errorEvent ends a committed stream with an error event, then [DONE]; u (may be nil)
// is the usage delivered before the error. The engine records 5xx incidents; one
// still without an id is recorded here.
func (rl *sseRelay) errorEvent(e *realtime.Error, u *realtime.Usage) {
	_, e = rl.srv.errorPayload(rl.r, e, true) // logs, records the incident, fills the message
	msg, _ := realtime.Localize(e, requestLang(rl.r))
	rl.out.begin("error")
	rl.out.field("content")
	rl.out.buf = appendJSONString(rl.out.buf, msg)
	rl.out.field("error_code")
	rl.out.buf = appendJSONString(rl.out.buf, string(e.Code))
	if e.IncidentID != "" {
		rl.out.field("incident_id")
		rl.out.buf = appendJSONString(rl.out.buf, e.IncidentID)
	}
	if u != nil {
		b, _ := json.Marshal(wireUsageOf(*u))
		rl.out.raw("usage", b)
	}
	rl.out.stamp()
	rl.out.buf = append(rl.out.buf, `,"is_complete":true`...)
	_ = rl.out.end()
	_ = rl.out.doneLine()
}
