package realtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hapa-project/hapa/store"
)

// writeTimeout bounds one InsertBatch of the running writer.
const writeTimeout = 10 * time.Second

// statusCancelled is the request-log status of a subscription the client left before
// its end (nginx's "client closed request").
const statusCancelled = 499

// logWriter batches request-log rows into a LogStore. enqueue never blocks: the queue
// is bounded and a full queue drops (and counts) the row. While the database is down
// rows go to the spool on local disk (EngineDeps.LogSpool; docs/operations.md,
// "Failure modes"), which is replayed into the database once a write succeeds again
// and at start; without a spool, or when it is full, they wait in a bounded retry
// buffer in memory (oldest dropped first). Writes are retried with exponential
// backoff; requests never wait for the database.
//
// The queue is a slice under a mutex, not a channel: enqueue wakes the writer only when
// a batch is full, and the writer otherwise takes what queued on its tick. A channel
// send woke the writer goroutine for every row — a goroutine hand-off, and often a
// thread wake-up, on every request's path.
type logWriter struct {
	cfg   EngineConfig
	store LogStore
	spool Spool // nil: memory only
	log   *slog.Logger

	mu     sync.Mutex
	queue  []store.RequestLogRow // enqueued, not yet taken by the writer; at most LogQueue
	spare  []store.RequestLogRow // the writer's previous queue, reused
	full   chan struct{}         // capacity 1: a batch is queued
	queueN atomic.Int64          // len(queue), for stats

	pending []store.RequestLogRow // owned by the run/flush goroutine
	backoff time.Duration
	retryAt time.Time

	closed                          atomic.Bool
	pendingN, written, dropped      atomic.Int64
	lastDropWarn, dropsSinceWarning atomic.Int64
}

func newLogWriter(cfg EngineConfig, s LogStore, spool Spool, log *slog.Logger) *logWriter {
	return &logWriter{cfg: cfg, store: s, spool: spool, log: log, full: make(chan struct{}, 1)}
}

// enqueue adds a row without blocking.
func (w *logWriter) enqueue(row store.RequestLogRow) {
	if w.store == nil {
		return
	}
	w.mu.Lock()
	if w.closed.Load() {
		w.mu.Unlock()
		w.drop(1, "request-log writer closed")
		return
	}
	n := len(w.queue)
	if n >= w.cfg.LogQueue {
		w.mu.Unlock()
		w.drop(1, "request-log queue full")
		return
	}
	w.queue = append(w.queue, row)
	w.queueN.Store(int64(n + 1)) // under mu: a take cannot overwrite it with a stale count
	w.mu.Unlock()
	// A full batch wakes the writer; so does a full queue smaller than a batch, or its
	// rows would wait for the tick while new ones are dropped.
	if n+1 == min(w.cfg.LogBatch, w.cfg.LogQueue) {
		select {
		case w.full <- struct{}{}:
		default:
		}
	}
}

// take moves the queued rows to the retry buffer.
func (w *logWriter) take() {
	w.mu.Lock()
	rows := w.queue
	w.queue, w.spare = w.spare[:0], rows
	w.queueN.Store(0)
	w.mu.Unlock()
	for i := range rows {
		w.add(rows[i])
		rows[i] = store.RequestLogRow{} // let the strings go
	}
}

// drop counts lost rows and warns at most once a second.
func (w *logWriter) drop(n int, why string) {
	w.dropped.Add(int64(n))
	w.dropsSinceWarning.Add(int64(n))
	now := time.Now().UnixNano()
	last := w.lastDropWarn.Load()
	if now-last >= int64(time.Second) && w.lastDropWarn.CompareAndSwap(last, now) {
		w.log.Warn("realtime: request-log rows dropped", "reason", why, "rows", w.dropsSinceWarning.Swap(0),
			"dropped_total", w.dropped.Load())
	}
}

// run writes batches (full, or every LogFlushInterval) until ctx ends.
func (w *logWriter) run(ctx context.Context) {
	if w.store == nil {
		<-ctx.Done()
		return
	}
	tick := time.NewTicker(w.cfg.LogFlushInterval)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-w.full:
		case <-tick.C:
		}
		w.take()
		if w.write(context.WithoutCancel(ctx), false) == nil && !w.retryAt.After(time.Now()) {
			w.replay(context.WithoutCancel(ctx))
		} else {
			w.toSpool()
		}
	}
}

// toSpool moves the rows waiting for a retry to the spool, so that they survive a
// restart and memory stays small during a long outage; rows the spool cannot take
// stay in memory.
func (w *logWriter) toSpool() {
	if w.spool == nil || len(w.pending) == 0 {
		return
	}
	recs := make([][]byte, 0, len(w.pending))
	for i := range w.pending {
		b, err := json.Marshal(&w.pending[i])
		if err != nil {
			continue
		}
		recs = append(recs, b)
	}
	if err := w.spool.Append(recs...); err != nil {
		return // full: the memory buffer keeps them (and drops the oldest past its bound)
	}
	clear(w.pending)
	w.pending = w.pending[:0]
	w.pendingN.Store(0)
}

// replay writes the spooled rows back once the database takes writes again.
func (w *logWriter) replay(ctx context.Context) {
	if w.spool == nil {
		return
	}
	if n, _ := w.spool.Len(); n == 0 {
		return
	}
	n, err := w.spool.Replay(ctx, w.cfg.LogBatch, func(batch [][]byte) error {
		rows := make([]store.RequestLogRow, 0, len(batch))
		for _, b := range batch {
			var r store.RequestLogRow
			if json.Unmarshal(b, &r) == nil {
				rows = append(rows, r)
			}
		}
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		defer cancel()
		return w.store.InsertBatch(wctx, rows)
	})
	w.written.Add(int64(n))
	if err != nil {
		w.backoff = min(max(2*w.backoff, w.cfg.LogFlushInterval), w.cfg.LogRetryMax)
		w.retryAt = time.Now().Add(w.backoff)
		w.log.Warn("realtime: replaying spooled request-log rows failed; kept for the next try", "replayed", n, "err", err)
		return
	}
	w.log.Info("realtime: spooled request-log rows written", "rows", n)
}

// add appends to the retry buffer, dropping the oldest batch when it is full.
func (w *logWriter) add(row store.RequestLogRow) {
	w.pending = append(w.pending, row)
	if over := len(w.pending) - w.cfg.LogRetryRows; over > 0 {
		n := min(max(over, w.cfg.LogBatch), len(w.pending))
		w.pending = append(w.pending[:0], w.pending[n:]...)
		w.drop(n, "database unavailable, retry buffer full")
	}
	w.pendingN.Store(int64(len(w.pending)))
}

// write sends pending rows batch by batch unless a backoff is running; it stops at
// the first failure and schedules the retry. force ignores the backoff (shutdown).
func (w *logWriter) write(ctx context.Context, force bool) error {
	if !force && time.Now().Before(w.retryAt) {
		return nil
	}
	for len(w.pending) > 0 {
		n := min(len(w.pending), w.cfg.LogBatch)
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		err := w.store.InsertBatch(wctx, w.pending[:n:n])
		cancel()
		if err != nil {
			w.backoff = min(max(2*w.backoff, w.cfg.LogFlushInterval), w.cfg.LogRetryMax)
			w.retryAt = time.Now().Add(w.backoff)
			w.log.Warn("realtime: request-log write failed; rows kept for retry", "rows", len(w.pending),
				"retry_in", w.backoff, "err", err)
			return err
		}
		w.backoff, w.retryAt = 0, time.Time{}
		w.written.Add(int64(n))
		w.pending = append(w.pending[:0], w.pending[n:]...)
		w.pendingN.Store(int64(len(w.pending)))
	}
	return nil
}

// flush writes every queued and pending row, retrying until ctx ends; what is left
// then goes to the spool (written at the next start), or is dropped and counted when
// there is none. Rows enqueued afterwards are dropped.
func (w *logWriter) flush(ctx context.Context) {
	if w.store == nil {
		return
	}
	w.mu.Lock()
	w.closed.Store(true) // under mu: a row is either queued before the take below or dropped
	w.mu.Unlock()
	w.take()
	for w.write(ctx, true) != nil {
		if w.spool != nil {
			w.toSpool() // written at the next start
			if len(w.pending) == 0 {
				return
			}
		}
		select {
		case <-ctx.Done():
			w.drop(len(w.pending), "shutdown deadline")
			w.pending = nil
			w.pendingN.Store(0)
			return
		case <-time.After(w.backoff):
		}
	}
	w.replay(ctx) // a start after an outage: what the last run spooled
}

// stats returns queue depth, retry-buffer size, written and dropped rows.
func (w *logWriter) stats() (queued, pending int, written, dropped int64) {
	return int(w.queueN.Load()), int(w.pendingN.Load()), w.written.Load(), w.dropped.Load()
}

// account writes the request-log row of one finished subscription with its usage
// (usage.go), settles its quota reservation and reports it. It runs when the
// subscription ends, before its terminal event is handed out, so a key's next request
// sees the tokens this one used.
func (e *Engine) account(s *Stream, ev Event) {
	r := s.meta.req
	row := store.RequestLogRow{CreatedAt: s.t0.UTC(), RequestID: r.RequestID, KeyID: nonZero(r.Caller.KeyID),
		UserID: nonZero(r.Caller.UserID), Route: r.Route, Kind: string(r.Kind), Adapter: s.info.Model,
		Cached: s.info.Cached, Coalesced: s.info.Coalesced, Status: 200,
		TokensIn: s.usage.PromptTokens, TokensOut: s.usage.CompletionTokens,
		UpstreamIn: s.upstream.PromptTokens, UpstreamOut: s.upstream.CompletionTokens}
	outcome := ""
	var ttft, latency time.Duration
	switch {
	case ev.Err != nil:
		row.Status, row.ErrorCode, outcome = ev.Err.Status(), string(ev.Err.Code), string(ev.Err.Code)
		latency = time.Since(s.t0)
	case ev.Done != nil:
		d := ev.Done
		ttft, latency, outcome = d.TTFT, d.Latency, d.FinishReason
		if d.FinishReason == "cancelled" {
			row.Status = statusCancelled
		}
	}
	row.TTFTMs = float64(ttft) / float64(time.Millisecond)
	row.LatencyMs = float64(latency) / float64(time.Millisecond)
	if s.res != nil {
		ctx, cancel := context.WithTimeout(context.Background(), settleTimeout)
		s.res.Settle(ctx, s.upstream.TotalTokens)
		cancel()
		row.QuotaSettled = true // ChargeLog must not charge it again
	}
	e.rows.enqueue(row)
	e.obs.StreamDone(row.Adapter, r.Kind, outcome, ttft, latency, s.usage, s.upstream, source(s.info))
}

// settleTimeout bounds a quota settlement (a Redis round trip) at a stream's end.
const settleTimeout = time.Second

// source says where a subscription's text came from: "cache", "coalesced" (a flight
// another request launched) or "upstream".
func source(i StreamInfo) string {
	switch {
	case i.Cached:
		return "cache"
	case i.Coalesced:
		return "coalesced"
	}
	return "upstream"
}

// nonZero maps an unknown (zero) id to SQL NULL.
func nonZero(id int64) *int64 {
	if id == 0 {
		return nil
	}
	return &id
}
