package realtime

import (
	"context"
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
// rows are kept in a bounded retry buffer (oldest dropped first) and retried with
// exponential backoff; requests never wait for the database.
//
// The queue is a slice under a mutex, not a channel: enqueue wakes the writer only when
// a batch is full, and the writer otherwise takes what queued on its tick. A channel
// send woke the writer goroutine for every row — a goroutine hand-off, and often a
// thread wake-up, on every request's path.
type logWriter struct {
	cfg   EngineConfig
	store LogStore
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

func newLogWriter(cfg EngineConfig, s LogStore, log *slog.Logger) *logWriter {
	return &logWriter{cfg: cfg, store: s, log: log, full: make(chan struct{}, 1)}
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
		w.write(context.WithoutCancel(ctx), false)
	}
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
// then is dropped and counted. Rows enqueued afterwards are dropped.
func (w *logWriter) flush(ctx context.Context) {
	if w.store == nil {
		return
	}
	w.mu.Lock()
	w.closed.Store(true) // under mu: a row is either queued before the take below or dropped
	w.mu.Unlock()
	w.take()
	for w.write(ctx, true) != nil {
		select {
		case <-ctx.Done():
			w.drop(len(w.pending), "shutdown deadline")
			w.pending = nil
			w.pendingN.Store(0)
			return
		case <-time.After(w.backoff):
		}
	}
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
