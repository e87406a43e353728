package ws

import (
	"context"
	"errors"
	"io"
	"strconv"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// eventSource is what a session reads a stream from; *Stream implements it. The seam
// lets protocol tests run without the engine.
type eventSource interface {
	Info() realtime.StreamInfo
	Next(ctx context.Context) (realtime.Event, error)
	Close()
}

// wsStream is one in-flight stream of a session. It stays in session.streams (its id
// stays taken) until the writer takes its terminal frame to write it.
type wsStream struct {
	id     string
	kind   realtime.Kind
	out    *outStream
	ctx    context.Context
	cancel context.CancelFunc

	// guarded by session.mu
	cancelled bool            // stream.cancel, replace or session end: the terminal is "cancelled"
	abort     *realtime.Error // the session closes with this error: the terminal is stream.error
	ended     bool            // the terminal frame is queued
	outcome   string
}

// handle dispatches one decoded client event (reader goroutine).
func (s *session) handle(ev ClientEvent) {
	select {
	case <-s.closeReq:
		return // closing: accept nothing new
	default:
	}
	switch ev.Type {
	case EventPing:
		s.push(EventPong, serverEvent{Type: EventPong, EventID: ev.EventID}.encode())
	case EventSessionUpdate:
		s.update(ev)
	case EventStreamCancel:
		s.mu.Lock()
		if st := s.streams[ev.ID]; st != nil && !st.ended {
			st.cancelled = true
			st.cancel()
		}
		s.mu.Unlock() // an unknown or finished id is ignored: cancel races completion
	case EventCompletionCreate, EventGenerationCreate:
		s.create(ev)
	case EventCompletionFeedback:
		s.feedback(ev)
	}
}

// feedback takes one completion.feedback: no answer when it is taken, an error frame
// (with its event_id) when it is not.
func (s *session) feedback(ev ClientEvent) {
	if s.hub.deps.Feedback == nil {
		s.push(EventError, errorFrame(ev.EventID, s.tr(realtime.NewError(realtime.CodeInternal, "Completion feedback is not available"))))
		return
	}
	err := s.hub.deps.Feedback.Record(s.caller, realtime.Feedback{CompletionID: ev.CompletionID, Event: ev.Event,
		AcceptedChars: ev.AcceptedChars, AcceptedLines: ev.AcceptedLines})
	if err != nil {
		s.push(EventError, errorFrame(ev.EventID, s.tr(err)))
	}
}

// create admits one completion.create or generation.create.
func (s *session) create(ev ClientEvent) {
	kind, group := realtime.KindGeneration, "generation"
	if ev.Type == EventCompletionCreate {
		kind, group = realtime.KindCompletion, "completion"
	}
	s.mu.Lock()
	if _, dup := s.streams[ev.ID]; dup {
		s.mu.Unlock()
		s.push(EventError, errorFrame(ev.EventID, s.tr(realtime.NewError(realtime.CodeConflict, "stream id "+strconv.Quote(ev.ID)+" is in flight"))))
		return
	}
	if s.draining {
		s.mu.Unlock()
		e := realtime.NewError(realtime.CodeModelUnavailable, "server is restarting; reconnect")
		e.RetryAfter = s.hub.cfg.ReconnectAfter
		s.push(EventStreamError, streamErrorFrame(ev.ID, s.tr(e), nil))
		return
	}
	active := 0
	for _, st := range s.streams {
		if kind == realtime.KindCompletion && ev.Replace && st.kind == realtime.KindCompletion && !st.ended {
			st.cancelled = true
			st.cancel()
		}
		if !st.cancelled && !st.ended {
			active++
		}
	}
	if active >= s.hub.cfg.MaxStreams {
		s.mu.Unlock()
		s.push(EventStreamError, streamErrorFrame(ev.ID, s.tr(realtime.NewError(realtime.CodeTooManyStreams,
			"at most "+strconv.Itoa(s.hub.cfg.MaxStreams)+" concurrent streams per socket")), nil))
		return
	}
	ctx, cancel := context.WithCancel(s.ctx)
	st := &wsStream{id: ev.ID, kind: kind, out: &outStream{id: ev.ID}, ctx: ctx, cancel: cancel}
	s.streams[ev.ID] = st
	req := s.request(ev, kind)
	s.mu.Unlock()

	s.hub.streamOpened(kind)
	s.wg.Add(1)
	go s.runStream(st, req, group)
}

// request builds the engine request; the caller holds s.mu. The session profile is
// the default, the event's profile overrides it field by field.
func (s *session) request(ev ClientEvent, kind realtime.Kind) realtime.Request {
	req := realtime.Request{Kind: kind, Language: ev.Language, FilePath: ev.FilePath, ContextSnippets: ev.ContextSnippets,
		MaxTokens: ev.MaxTokens, Temperature: ev.Temperature, TopP: ev.TopP, Stop: ev.Stop,
		Route: "WS " + ev.Type, RequestID: s.id + "/" + ev.ID, Caller: s.caller, AffinityKey: s.affinity}
	if kind == realtime.KindCompletion {
		req.Task, req.Prefix, req.Suffix = realtime.TaskCompletion, ev.Prefix, ev.Suffix
	} else {
		req.Task, req.Prompt, req.Context = ev.ModelType, ev.Prompt, ev.Context
	}
	switch {
	case s.profile != nil:
		p := realtime.MergeProfile(*s.profile, ev.Profile)
		req.Profile = &p
	case ev.Profile != nil:
		p := *ev.Profile
		req.Profile = &p
	}
	return req
}

// runStream relays one stream from the engine into the send queue and queues exactly
// one terminal frame.
func (s *session) runStream(st *wsStream, req realtime.Request, group string) {
	defer s.wg.Done()
	defer st.cancel()
	defer s.recoverPanic()
	began := time.Now()
	var ttft time.Duration
	// done queues a Done, or the session's close error when it cut the stream.
	done := func(d realtime.Done) {
		s.mu.Lock()
		abort := st.abort
		s.mu.Unlock()
		if abort != nil && d.FinishReason == "cancelled" {
			s.finish(st, streamErrorFrame(st.id, s.tr(abort), &d.Usage), "error")
			return
		}
		s.finish(st, doneFrame(st.id, d), outcomeOf(d.FinishReason))
	}
	fail := func(err error, u *realtime.Usage) {
		s.mu.Lock()
		c := st.cancelled
		s.mu.Unlock()
		if c || s.ctx.Err() != nil {
			d := realtime.Done{FinishReason: "cancelled", TTFT: ttft, Latency: time.Since(began)}
			if u != nil {
				d.Usage = *u
			}
			done(d)
			return
		}
		e := realtime.AsError(err)
		if e.Server() && e.IncidentID == "" { // the engine logged and recorded the rest once per flight
			s.log.Error("realtime: stream failed", "id", st.id, "err", e)
		}
		s.finish(st, streamErrorFrame(st.id, s.tr(e), u), "error")
	}
	if scope := scopeFor(st.kind); !s.caller.HasScope(scope) {
		fail(realtime.NewError(realtime.CodeForbidden, "Permission denied: the '"+scope+"' scope is required"), nil)
		return
	}
	if a := s.hub.deps.Admit; a != nil {
		if e := a.Admit(st.ctx, s.caller, group); e != nil {
			fail(e, nil)
			return
		}
	}
	src, err := s.hub.start(st.ctx, req)
	if err != nil {
		fail(err, nil)
		return
	}
	defer src.Close() // leaves the flight at once; upstream closes unless a coalesced peer remains
	info := src.Info()
	s.out.started(st.out, startedFrame(st.id, st.kind, info))
	for {
		ev, err := src.Next(st.ctx)
		if err != nil {
			if errors.Is(err, io.EOF) {
				err = realtime.Wrap(realtime.CodeInternal, errors.New("stream ended without a terminal event"))
			}
			fail(err, nil)
			return
		}
		if ev.Text != "" {
			if ttft == 0 {
				ttft = time.Since(began)
			}
			s.out.text(st.out, ev.Text)
		}
		switch {
		case ev.Done != nil:
			d := *ev.Done
			if d.FinishReason == "" {
				d.FinishReason = "stop"
			}
			if d.Latency == 0 { // a Done without timings (test sources); measure here
				d.Latency, d.TTFT = time.Since(began), ttft
			}
			done(d)
			return
		case ev.Err != nil:
			fail(ev.Err, ev.Usage)
			return
		}
	}
}

// scopeFor is the API-key scope a stream kind needs (the REST routes ask the same).
func scopeFor(k realtime.Kind) string {
	if k == realtime.KindCompletion {
		return store.ScopeCodeCompletion
	}
	return store.ScopeCodeGeneration
}

func outcomeOf(finish string) string {
	if finish == "cancelled" {
		return "cancelled"
	}
	return "done"
}

// finish queues st's terminal frame.
func (s *session) finish(st *wsStream, frame []byte, outcome string) {
	s.mu.Lock()
	st.ended, st.outcome = true, outcome
	s.mu.Unlock()
	s.out.finish(st.out, frame)
}

// release frees a stream's id as its terminal frame is written (writer goroutine).
func (s *session) release(out *outStream) {
	s.mu.Lock()
	st := s.streams[out.id]
	if st == nil || st.out != out {
		s.mu.Unlock()
		return
	}
	delete(s.streams, out.id)
	s.mu.Unlock()
	s.hub.streamClosed(st.kind, st.outcome)
}

// cancelStreams cancels every stream of the session (close requested); with e, the
// streams still open end with stream.error e instead of a cancelled stream.done.
func (s *session) cancelStreams(e *realtime.Error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range s.streams {
		if !st.ended {
			st.cancelled = true
			if e != nil {
				st.abort = e
			}
		}
		st.cancel()
	}
}

// terminalWait bounds how long a closing session waits for its cancelled streams to
// queue their terminal frames (they do within milliseconds: the engine ends a
// cancelled subscription at once).
const terminalWait = time.Second

// awaitStreams waits until every stream goroutine has ended, at most d.
func (s *session) awaitStreams(d time.Duration) {
	done := make(chan struct{})
	go func() { s.wg.Wait(); close(done) }()
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-done:
	case <-t.C:
	}
}
