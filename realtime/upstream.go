package realtime

import (
	"context"
	"errors"
	"time"

	"github.com/hapa-project/hapa/vllm"
)

// incidentTimeout bounds recording an incident or filling the cache after a flight.
const incidentTimeout = 2 * time.Second

// run is the flight's one goroutine: it reads the upstream stream into the buffer,
// then fills the cache and leaves the coalescing table before publishing the end, so
// that a request made after a subscriber saw Done hits the cache instead of joining a
// finished flight.
func (f *flight) run(p plan) {
	e := f.e
	defer e.wg.Done()
	defer e.st.flights.Add(-1)
	defer f.cancel()

	end := f.stream(p)
	// A flight cancelled by its last subscriber leaving, or by shutdown, is no incident.
	if end.err != nil && end.err.Server() && f.ctx.Err() == nil {
		e.log.Warn("realtime: generation failed", "code", end.err.Code, "model", f.model,
			"request_id", p.req.RequestID, "err", end.err.Detail)
		f.record(end.err, p.req)
	}
	if end.err == nil && f.key != "" && e.deps.Cache != nil && (end.finish == "stop" || end.finish == "length") {
		f.mu.Lock()
		ent := cacheEntry{Text: string(f.buf), Usage: end.usage, FinishReason: end.finish, Model: f.model}
		f.mu.Unlock()
		ctx, cancel := context.WithTimeout(e.base, incidentTimeout)
		e.cacheFill(ctx, f.key, ent)
		cancel()
	}
	f.unregister()
	f.finish(end)
}

// stream runs the upstream request and says how it ended.
func (f *flight) stream(p plan) *flightEnd {
	s, err := f.e.deps.Upstream.Stream(f.ctx, p.upstream)
	if err != nil {
		return &flightEnd{err: f.upstreamError(err, p.req, CodeModelUnavailable)}
	}
	defer s.Close()
	var (
		finish string
		usage  *vllm.Usage
		deltas int
	)
	for s.Next() {
		d := s.Delta()
		if d.Text != "" {
			deltas++
			if !f.appendText(d.Text) {
				return &flightEnd{err: NewError(CodeModelError, "The model output exceeded the size limit")}
			}
		}
		if d.FinishReason != "" {
			finish = d.FinishReason
		}
		if d.Usage != nil {
			u := *d.Usage
			usage = &u
		}
	}
	if err := s.Err(); err != nil {
		return &flightEnd{err: f.upstreamError(err, p.req, CodeModelError)}
	}
	if f.ctx.Err() != nil {
		return &flightEnd{err: f.upstreamError(f.ctx.Err(), p.req, CodeModelError)}
	}
	if usage == nil { // an upstream without include_usage: count deltas, the best guess
		usage = &vllm.Usage{CompletionTokens: deltas, TotalTokens: deltas}
	}
	switch finish {
	case "abort":
		return &flightEnd{err: NewError(CodeModelError, "The model aborted the generation")}
	case "":
		finish = "stop"
	}
	return &flightEnd{finish: finish, usage: *usage}
}

// upstreamError maps an upstream failure to the catalogue (the one table of it).
// Unclassified failures (a refused connection, a dropped stream) get fallback: E5005
// before the stream opened, E5006 once it was reading.
func (f *flight) upstreamError(err error, req Request, fallback Code) *Error {
	var api *vllm.APIError
	switch {
	case f.ctx.Err() != nil && f.e.base.Err() != nil:
		return &Error{Code: CodeModelUnavailable, Message: "The server is shutting down", Err: err, Detail: err.Error()}
	case f.ctx.Err() != nil: // abandoned by every subscriber: nobody reads this
		return Wrap(CodeInternal, err)
	case errors.Is(err, vllm.ErrContextLength):
		e := Wrap(CodeOutOfRange, err)
		e.Message = "The prompt and max_tokens exceed the model's context length"
		if errors.As(err, &api) && api.Message != "" {
			e.Message = api.Message
		}
		return e
	case errors.Is(err, vllm.ErrModelNotFound) && req.Model != "":
		e := Wrap(CodeNotFound, err)
		e.Message = "The model " + req.Model + " does not exist"
		return e
	case errors.Is(err, vllm.ErrModelNotFound):
		return Wrap(CodeModelError, err)
	case errors.Is(err, vllm.ErrTimeout), errors.Is(err, context.DeadlineExceeded):
		return Wrap(CodeModelTimeout, err)
	case errors.Is(err, vllm.ErrOverloaded): // ErrUnavailable matches too
		return Wrap(CodeModelUnavailable, err)
	case errors.As(err, &api), errors.Is(err, vllm.ErrTruncated):
		return Wrap(CodeModelError, err)
	}
	return Wrap(fallback, err)
}

// record stores an incident for a server error and sets its id.
func (f *flight) record(err *Error, req Request) {
	if f.e.deps.Incidents == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(f.ctx), incidentTimeout)
	defer cancel()
	err.IncidentID = f.e.deps.Incidents.Record(ctx, err, req.Route, req.RequestID)
}
