package realtime

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// EngineDeps are the engine's collaborators. Upstream is required; the others may be
// nil (no cache, no request log, default profiles, no quotas, no incident records, no
// metrics).
type EngineDeps struct {
	Upstream  Upstream
	Cache     Cache
	Log       LogStore
	Profiles  Profiles
	Quota     QuotaReserver
	LogSpool  Spool // request-log rows the database could not take (nil: kept in memory)
	Incidents Incidents
	// CompletionIDs, when set, gives every completion subscription an id its editor
	// reports feedback with (StreamInfo.CompletionID; docs/api.md, "Completion feedback").
	CompletionIDs *CompletionIDs
	Observer      EngineObserver
	Logger        *slog.Logger
}

// Engine turns Requests into Streams: validation → personalised prompt → cache →
// coalescing → upstream → fan-out, and writes one request-log row per subscription.
// It is safe for concurrent use. Run must be running for request-log rows to be written.
//
// Policies:
//   - A request is shared — looked up in and filled into the response cache, and
//     coalesced with identical in-flight requests — when NoCache is unset and its final
//     temperature is at most CacheMaxTemperature. Hotter requests get their own
//     upstream generation: sharing them would hide the variety the caller asked for.
//   - Identity is the cache key (adapter, rendered prompt or messages, sampling, and the
//     key id under CacheScopeKey), so coalescing respects the cache scope.
//   - The cache is filled after a stop or length finish, before subscribers see Done;
//     a cache failure is a miss (E5002 counted, an incident at most once a minute).
//   - Upstream failures end the stream with an Err event after any text; 5xx are
//     logged and recorded as incidents once per flight, not per subscriber.
//   - Every subscription — served, failed, cancelled, cached or coalesced — writes one
//     request-log row when it ends (Close, its Start context, or its terminal event).
type Engine struct {
	cfg      EngineConfig
	deps     EngineDeps
	obs      EngineObserver
	log      *slog.Logger
	adapters map[string]string
	sampling map[string]Sampling

	remoteCache bool          // deps.Cache reads are round trips: overlap them with Request.Admit
	window      ContextWindow // deps.Upstream, when it knows max_model_len; else nil

	base   context.Context // parent of every flight; cancelled when Run ends
	cancel context.CancelFunc
	closed atomic.Bool

	mu      sync.Mutex
	flights map[string]*flight // coalescable in-flight generations by cache key
	wg      sync.WaitGroup     // flight goroutines

	rows *logWriter
	st   counters

	liveMu sync.Mutex
	live   map[int64]map[*Stream]struct{} // open subscriptions of API keys (revoke.go)
}

// counters are the engine's plain statistics.
type counters struct {
	flights, subscribers, cacheHits, cacheMisses, cacheErrors, coalesced atomic.Int64
	lastCacheIncident                                                    atomic.Int64 // unix nanos
}

// Stats is a snapshot of the engine's counters.
type Stats struct {
	Flights     int   // in-flight upstream generations
	Subscribers int64 // open subscriptions
	CacheHits   int64
	CacheMisses int64
	CacheErrors int64 // bypassed cache failures (E5002)
	Coalesced   int64 // subscriptions that joined an existing flight
	LogQueued   int   // rows waiting in the request-log queue
	LogPending  int   // rows kept for retry while the database is down
	LogWritten  int64
	LogDropped  int64 // rows lost: queue full, retry buffer full, or shutdown deadline
}

// NewEngine builds an engine; call Run to start its request-log writer.
func NewEngine(cfg EngineConfig, deps EngineDeps) (*Engine, error) {
	if deps.Upstream == nil {
		return nil, errors.New("realtime: EngineDeps.Upstream is required")
	}
	cfg, err := cfg.withDefaults()
	if err != nil {
		return nil, err
	}
	e := &Engine{cfg: cfg, deps: deps, obs: deps.Observer, log: deps.Logger,
		adapters: cfg.adapterTable(), sampling: cfg.samplingTable(), flights: map[string]*flight{},
		live: map[int64]map[*Stream]struct{}{}}
	if e.obs == nil {
		e.obs = nopEngineObserver{}
	}
	if e.log == nil {
		e.log = slog.New(slog.DiscardHandler)
	}
	if rc, ok := deps.Cache.(RemoteCache); ok {
		e.remoteCache = rc.Remote()
	}
	e.window, _ = deps.Upstream.(ContextWindow)
	e.base, e.cancel = context.WithCancel(context.Background())
	e.rows = newLogWriter(cfg, deps.Log, deps.LogSpool, e.log)
	return e, nil
}

// Run writes request-log rows until ctx ends. Then it stops the engine: new Starts fail
// with E5005, in-flight upstream requests are cancelled (their subscribers get an
// error event), and the remaining rows are flushed for at most FlushTimeout.
func (e *Engine) Run(ctx context.Context) error {
	e.rows.run(ctx)
	e.mu.Lock() // no launch after this: wg.Add never races wg.Wait
	e.closed.Store(true)
	e.mu.Unlock()
	e.cancel()
	e.wg.Wait()
	flushCtx, cancel := context.WithTimeout(context.Background(), e.cfg.FlushTimeout)
	defer cancel()
	e.rows.flush(flushCtx)
	return nil
}

// Start validates req, resolves it (cache hit, join of an identical in-flight request,
// or a new upstream generation) and returns the caller's stream. Errors returned here
// are *Error and come before any output; upstream failures arrive on the stream as
// its terminal Err event, so a transport that needs a real status before writing
// should read the first event first.
func (e *Engine) Start(ctx context.Context, req Request) (*Stream, error) {
	t0 := time.Now()
	if e.closed.Load() {
		return nil, NewError(CodeModelUnavailable, "The server is shutting down")
	}
	if err := e.validate(&req); err != nil {
		return nil, err
	}
	// Admission: before anything else with a local cache; with a remote one beside
	// rendering (a profile read) and the cache read, whose outcome then waits for it.
	var verdict <-chan admitResult
	if req.Admit != nil {
		if e.remoteCache {
			verdict = admitAsync(ctx, req.Admit)
		} else if err := req.Admit(ctx); err != nil {
			return nil, err
		}
	}
	rendered := e.render(ctx, req)
	p := &rendered // one copy, shared by the flight and the stream
	key := cacheKey(rendered, e.cfg.CacheScope, req.Caller.KeyID)
	shared := !req.NoCache && p.upstream.Temperature <= e.cfg.CacheMaxTemperature

	lookup := shared && e.deps.Cache != nil
	var ent cacheEntry
	var hit bool
	if lookup {
		ent, hit = e.cacheRead(ctx, key)
	}
	if verdict != nil {
		if err := (<-verdict).get(); err != nil {
			return nil, err // a refused hit is not counted as one
		}
	}
	if lookup {
		e.countLookup(hit)
	}
	if hit {
		if q := e.deps.Quota; q != nil {
			if err := q.Check(ctx, req.Caller); err != nil {
				return nil, err
			}
		}
		return e.subscribe(ctx, replayFlight(e, p, ent), p, t0, false, nil), nil
	}
	res, p, shared, err := e.reserve(ctx, p, shared)
	if err != nil {
		return nil, err
	}
	e.mu.Lock()
	if f, ok := e.flights[key]; shared && ok && f.join() {
		e.mu.Unlock()
		e.st.coalesced.Add(1)
		e.obs.Coalesced()
		return e.subscribe(ctx, f, p, t0, true, res), nil
	}
	if e.closed.Load() {
		e.mu.Unlock()
		if res != nil {
			res.Settle(context.WithoutCancel(ctx), 0)
		}
		return nil, NewError(CodeModelUnavailable, "The server is shutting down")
	}
	f := e.launch(p, key, shared)
	e.mu.Unlock()
	return e.subscribe(ctx, f, p, t0, false, res), nil
}

// reserve reserves the caller's quota for an upstream generation of p (a joiner
// reserves too: it is charged if the launcher leaves first). When fewer tokens are
// left than p may use, p's max_tokens is lowered to what is left and the request
// runs on its own: it neither fills the cache nor joins or is joined by others.
func (e *Engine) reserve(ctx context.Context, p *plan, shared bool) (Reservation, *plan, bool, error) {
	q := e.deps.Quota
	if q == nil || p.req.Caller.Quota == (Quota{}) {
		return nil, p, shared, nil
	}
	res, granted, qerr := q.Reserve(ctx, p.req.Caller, promptEstimate(p.upstream), p.upstream.MaxTokens)
	if qerr != nil {
		return nil, nil, false, qerr
	}
	if granted < p.upstream.MaxTokens {
		clamped := *p
		clamped.upstream.MaxTokens = granted
		return res, &clamped, false, nil
	}
	return res, p, shared, nil
}

// admitResult is Request.Admit's outcome on another goroutine; a panic in it is
// carried back and raised again on the caller's, where the recovery of its HTTP
// handler sees it as before.
type admitResult struct {
	err      error
	panicked bool
	p        any
}

func (r admitResult) get() error {
	if r.panicked {
		panic(r.p)
	}
	return r.err
}

// admitAsync runs admit on a goroutine of its own; its result is sent exactly once.
func admitAsync(ctx context.Context, admit func(context.Context) error) <-chan admitResult {
	ch := make(chan admitResult, 1)
	go func() {
		done := false
		defer func() {
			if !done {
				ch <- admitResult{panicked: true, p: recover()}
			}
		}()
		err := admit(ctx)
		done = true
		ch <- admitResult{err: err}
	}()
	return ch
}

// Result is the outcome of Generate.
type Result struct {
	Text string
	Done Done
}

// Generate runs req to its end and returns the whole text. On a stream error it
// returns the text produced so far with the *Error.
func (e *Engine) Generate(ctx context.Context, req Request) (Result, error) {
	s, err := e.Start(ctx, req)
	if err != nil {
		return Result{}, err
	}
	defer s.Close()
	ev, err := s.All(ctx)
	switch {
	case errors.Is(err, io.EOF):
		return Result{}, NewError(CodeInternal, "")
	case err != nil:
		return Result{}, err
	case ev.Err != nil:
		return Result{Text: ev.Text}, ev.Err
	}
	return Result{Text: ev.Text, Done: *ev.Done}, nil
}

// Stats returns a snapshot of the counters.
func (e *Engine) Stats() Stats {
	q, pending, written, dropped := e.rows.stats()
	return Stats{Flights: int(e.st.flights.Load()), Subscribers: e.st.subscribers.Load(),
		CacheHits: e.st.cacheHits.Load(), CacheMisses: e.st.cacheMisses.Load(),
		CacheErrors: e.st.cacheErrors.Load(), Coalesced: e.st.coalesced.Load(),
		LogQueued: q, LogPending: pending, LogWritten: written, LogDropped: dropped}
}
