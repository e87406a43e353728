package realtime

import (
	"context"
	"errors"
	"time"

	"github.com/hapa-project/hapa/vllm"
)

// incidentTimeout bounds recording an incident or filling the cache after a flight.
const incidentTimeout = 2 * time.Second

// run is the goroutine of a handed-off flight: it steps the flight to its end.
func (f *flight) run() {
	f.stepMu.Lock()
	defer f.stepMu.Unlock()
	for !f.over {
		f.step()
	}
}

// upstreamRead is a flight's open upstream stream and what it said so far.
type upstreamRead struct {
	s        *vllm.Stream
	finish   string
	usage    vllm.Usage // the last usage vLLM sent (running, then final)
	hasUsage bool
	deltas   int
}

// step advances the flight by one upstream event: the first step opens the upstream
// request, and the step that meets the end concludes the flight. The caller holds
// f.stepMu and has checked that the flight is not over. Whoever steps — the flight's
// goroutine, or the reader pulling it — the text goes through the buffer, so joiners,
// hand-offs and readers see one sequence.
func (f *flight) step() {
	if f.up == nil {
		s, err := f.e.deps.Upstream.Stream(f.ctx, f.plan.upstream)
		if err != nil {
			f.conclude(&flightEnd{err: f.upstreamError(err, f.plan.req, CodeModelUnavailable)})
			return
		}
		f.up = &upstreamRead{s: s}
		f.mu.Lock()
		f.sent, f.replica = true, s.Replica()
		f.mu.Unlock()
		return
	}
	if end := f.advance(f.up); end != nil {
		f.up.s.Close()
		f.conclude(end)
	}
}

// advance reads one upstream event into the buffer; it returns how the flight ended
// once the upstream stream is over, else nil.
func (f *flight) advance(u *upstreamRead) *flightEnd {
	if u.s.Next() {
		d := u.s.Delta()
		if d.Text != "" {
			u.deltas++
		}
		if d.Usage != nil {
			u.usage, u.hasUsage = *d.Usage, true
		}
		if d.Text != "" || d.Usage != nil {
			completion, prompt := u.deltas, 0
			if u.hasUsage {
				completion, prompt = max(u.usage.CompletionTokens, u.deltas), u.usage.PromptTokens
			}
			if !f.appendText(d.Text, completion, prompt) {
				return &flightEnd{err: NewError(CodeModelError, "The model output exceeded the size limit")}
			}
		}
		if d.FinishReason != "" {
			u.finish = d.FinishReason
		}
		return nil
	}
	p := f.plan
	if err := u.s.Err(); err != nil {
		return &flightEnd{err: f.upstreamError(err, p.req, CodeModelError)}
	}
	if f.ctx.Err() != nil {
		return &flightEnd{err: f.upstreamError(f.ctx.Err(), p.req, CodeModelError)}
	}
	usage := u.usage
	if !u.hasUsage { // an upstream without include_usage: count deltas, the best guess
		f.mu.Lock()
		prompt := f.promptTokens()
		f.mu.Unlock()
		usage = vllm.Usage{PromptTokens: prompt, CompletionTokens: u.deltas, TotalTokens: prompt + u.deltas}
	}
	finish := u.finish
	switch finish {
	case "abort":
		return &flightEnd{err: NewError(CodeModelError, "The model aborted the generation")}
	case "":
		finish = "stop"
	}
	return &flightEnd{finish: finish, usage: usage}
}

// conclude ends the flight (f.stepMu held): it records a server error as an incident,
// fills the cache and leaves the coalescing table before publishing the end, so that a
// request made after a subscriber saw Done hits the cache instead of joining a
// finished flight; then it releases the flight's context and the engine's count.
func (f *flight) conclude(end *flightEnd) {
	e, p := f.e, f.plan
	f.over = true
	f.unwatch()
	if f.away != nil {
		f.away.Stop()
	}
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
	if end.err == nil { // vLLM's final count is the truth for a stream read to its end
		f.mu.Lock()
		f.tokensRead(end.usage.CompletionTokens, end.usage.PromptTokens)
		f.mu.Unlock()
	}
	f.unregister()
	f.finish(end)
	f.cancel()
	e.st.flights.Add(-1)
	e.wg.Done()
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
