package realtime

import (
	"context"
	"fmt"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hapa-project/hapa/store"
)

// Feedback is one report of what an editor did with a completion it received.
type Feedback struct {
	CompletionID string
	Event        string // shown | accepted | dismissed
	// AcceptedChars and AcceptedLines are what an accepted completion kept (a partial
	// accept keeps less than the whole); ignored for the other events.
	AcceptedChars *int
	AcceptedLines *int
}

// Bounds of a feedback report.
const (
	// FeedbackMaxAge is how long after its completion a report is taken.
	FeedbackMaxAge   = 24 * time.Hour
	maxAcceptedChars = 1 << 20
	maxAcceptedLines = 1 << 16
	// MaxFeedbackBatch is the most reports one POST /api/v1/completions/events carries.
	MaxFeedbackBatch = 100
)

// FeedbackStore writes completion events in batches; *store.CompletionEvents
// implements it.
type FeedbackStore interface {
	InsertBatch(ctx context.Context, evs []store.CompletionEvent) error
}

// FeedbackObserver counts the events taken (hapa_completion_events_total).
type FeedbackObserver interface {
	CompletionEvent(event, language string)
}

// FeedbackDeps are what a FeedbackRecorder needs; IDs and Store are required.
type FeedbackDeps struct {
	IDs         *CompletionIDs
	Store       FeedbackStore
	Spool       Spool  // events the database could not take wait here (nil: memory)
	ModelFamily string // recorded with each event (VLLM_MODEL_FAMILY)
	Observer    FeedbackObserver
	Logger      *slog.Logger
	Now         func() time.Time
}

// FeedbackRecorder takes completion feedback from every transport (docs/api.md,
// "Completion feedback"): it checks each report against its completion id — only the
// caller who received a completion may report on it, within FeedbackMaxAge — counts it
// once in the metrics and queues it for the database, where a report repeated for the
// same completion and event is ignored. Reporting never waits on the database: the
// events are written in batches like the request log, through the spool while the
// database is down.
type FeedbackRecorder struct {
	deps FeedbackDeps
	w    *batchWriter[store.CompletionEvent]

	mu         sync.Mutex
	seen, prev map[string]struct{} // recent (completion, event) pairs: two generations
	rotated    time.Time
}

// feedbackSeenMax bounds one generation of the recent-report set; it rotates at this
// size or every feedbackSeenFor, whichever comes first.
const (
	feedbackSeenMax = 100_000
	feedbackSeenFor = 10 * time.Minute
)

// NewFeedbackRecorder returns a recorder; run it with Run.
func NewFeedbackRecorder(cfg EngineConfig, deps FeedbackDeps) *FeedbackRecorder {
	if deps.Logger == nil {
		deps.Logger = slog.New(slog.DiscardHandler)
	}
	if deps.Now == nil {
		deps.Now = time.Now
	}
	cfg, _ = cfg.withDefaults()
	bc := batchConfig{Queue: cfg.LogQueue, Batch: cfg.LogBatch, RetryRows: cfg.LogRetryRows,
		FlushInterval: cfg.LogFlushInterval, RetryMax: cfg.LogRetryMax}
	var st batchStore[store.CompletionEvent]
	if deps.Store != nil {
		st = deps.Store
	}
	return &FeedbackRecorder{deps: deps, w: newBatchWriter(bc, "completion events", st, deps.Spool, deps.Logger),
		seen: map[string]struct{}{}, prev: map[string]struct{}{}, rotated: deps.Now()}
}

// Run writes the events until ctx ends, then flushes what is queued (at most
// flushTimeout).
func (r *FeedbackRecorder) Run(ctx context.Context) error {
	r.w.run(ctx)
	fctx, cancel := context.WithTimeout(context.Background(), flushTimeout)
	defer cancel()
	r.w.flush(fctx)
	return nil
}

// flushTimeout bounds the last write of a stopping recorder.
const flushTimeout = 5 * time.Second

// Stats returns events queued, kept for retry, written and dropped.
func (r *FeedbackRecorder) Stats() (queued, pending int, written, dropped int64) { return r.w.stats() }

// Record takes one report of caller. The error is E4011 for an id that is not one of
// caller's completions (malformed, forged, someone else's or older than
// FeedbackMaxAge: they are not told apart), E4001 for an unknown event and E4008 for
// counts out of range; a repeated report is taken again without effect.
func (r *FeedbackRecorder) Record(caller Caller, f Feedback) *Error {
	ev := strings.ToLower(strings.TrimSpace(f.Event))
	switch ev {
	case store.CompletionShown, store.CompletionDismissed:
		f.AcceptedChars, f.AcceptedLines = nil, nil
	case store.CompletionAccepted:
		for _, c := range []struct {
			field string
			v     *int
			max   int
		}{{"accepted_chars", f.AcceptedChars, maxAcceptedChars}, {"accepted_lines", f.AcceptedLines, maxAcceptedLines}} {
			if c.v != nil && (*c.v < 0 || *c.v > c.max) {
				return fieldError(CodeOutOfRange, c.field, fmt.Sprintf("must be between 0 and %d", c.max))
			}
		}
	case "":
		return fieldError(CodeMissingField, "event", "is required")
	default:
		return fieldError(CodeInvalidInput, "event", "want shown, accepted or dismissed")
	}
	if f.CompletionID == "" {
		return fieldError(CodeMissingField, "completion_id", "is required")
	}
	now := r.deps.Now()
	ref, err := r.deps.IDs.Parse(f.CompletionID)
	if err != nil || !ref.ReceivedBy(caller) || now.Sub(ref.CreatedAt) > FeedbackMaxAge || ref.CreatedAt.After(now.Add(time.Minute)) {
		return NewError(CodeNotFound, "Unknown or expired completion_id")
	}
	if !r.first(f.CompletionID + "\x00" + ev) {
		return nil
	}
	row := store.CompletionEvent{CompletionID: f.CompletionID, Event: ev, CreatedAt: now.UTC(), CompletionAt: ref.CreatedAt,
		LatencyMs: float64(now.Sub(ref.CreatedAt)) / float64(time.Millisecond), KeyID: nonZero(ref.KeyID), UserID: nonZero(ref.UserID),
		Language: ref.Language, Adapter: ref.Adapter, ModelFamily: r.deps.ModelFamily,
		AcceptedChars: f.AcceptedChars, AcceptedLines: f.AcceptedLines}
	r.w.enqueue(row)
	if r.deps.Observer != nil {
		r.deps.Observer.CompletionEvent(ev, ref.Language)
	}
	return nil
}

// first reports whether key was not seen recently, and remembers it.
func (r *FeedbackRecorder) first(key string) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	if _, ok := r.seen[key]; ok {
		return false
	}
	if _, ok := r.prev[key]; ok {
		return false
	}
	if now := r.deps.Now(); len(r.seen) >= feedbackSeenMax || now.Sub(r.rotated) >= feedbackSeenFor {
		r.prev, r.seen, r.rotated = r.seen, make(map[string]struct{}, len(r.seen)), now
	}
	r.seen[key] = struct{}{}
	return true
}

// CompletionLanguage is the language a completion is recorded with: the request's,
// lower case, python when absent.
func CompletionLanguage(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	switch lang {
	case "", "py":
		return "python"
	}
	return lang
}

// fieldError is an error about one field of a report.
func fieldError(code Code, field, msg string) *Error {
	e := NewError(code, field+": "+msg)
	e.Fields = []FieldError{{Field: field, Code: code, Message: msg}}
	return e
}
