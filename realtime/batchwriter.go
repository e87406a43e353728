package realtime

import (
	"context"
	"encoding/json"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// writeTimeout bounds one InsertBatch of the running writer.
const writeTimeout = 10 * time.Second

// batchWriter batches rows of type T (request-log rows, completion events) into a
// database table. enqueue never blocks: the queue is bounded and a full queue drops
// (and counts) the row. While the database is down
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
type batchWriter[T any] struct {
	cfg   batchConfig
	what  string // "request-log rows", for the logs
	store batchStore[T]
	spool Spool // nil: memory only
	log   *slog.Logger

	mu     sync.Mutex
	queue  []T           // enqueued, not yet taken by the writer; at most LogQueue
	spare  []T           // the writer's previous queue, reused
	full   chan struct{} // capacity 1: a batch is queued
	queueN atomic.Int64  // len(queue), for stats

	pending []T // owned by the run/flush goroutine
	tried   int // pending[:tried] were in a write that failed: they may be stored already
	backoff time.Duration
	retryAt time.Time

	closed                          atomic.Bool
	pendingN, written, dropped      atomic.Int64
	lastDropWarn, dropsSinceWarning atomic.Int64
}

// batchStore writes rows of type T in batches.
type batchStore[T any] interface {
	InsertBatch(ctx context.Context, rows []T) error
}

// retryStore is a batchStore that can write again rows a failed write may have stored
// after all — its connection lost while committing — without storing them twice.
// The writer uses it for every row that was tried before and for the spool; a store
// without it gets InsertBatch (at least once).
type retryStore[T any] interface {
	InsertRetry(ctx context.Context, rows []T) error
}

// batchConfig sizes a batchWriter (EngineConfig's Log* fields for the request log).
type batchConfig struct {
	Queue, Batch, RetryRows int
	FlushInterval, RetryMax time.Duration
}

func newBatchWriter[T any](cfg batchConfig, what string, s batchStore[T], spool Spool, log *slog.Logger) *batchWriter[T] {
	return &batchWriter[T]{cfg: cfg, what: what, store: s, spool: spool, log: log, full: make(chan struct{}, 1)}
}

// enqueue adds a row without blocking.
func (w *batchWriter[T]) enqueue(row T) {
	if w.store == nil {
		return
	}
	w.mu.Lock()
	if w.closed.Load() {
		w.mu.Unlock()
		w.drop(1, "writer closed")
		return
	}
	n := len(w.queue)
	if n >= w.cfg.Queue {
		w.mu.Unlock()
		w.drop(1, "queue full")
		return
	}
	w.queue = append(w.queue, row)
	w.queueN.Store(int64(n + 1)) // under mu: a take cannot overwrite it with a stale count
	w.mu.Unlock()
	// A full batch wakes the writer; so does a full queue smaller than a batch, or its
	// rows would wait for the tick while new ones are dropped.
	if n+1 == min(w.cfg.Batch, w.cfg.Queue) {
		select {
		case w.full <- struct{}{}:
		default:
		}
	}
}

// take moves the queued rows to the retry buffer.
func (w *batchWriter[T]) take() {
	w.mu.Lock()
	rows := w.queue
	w.queue, w.spare = w.spare[:0], rows
	w.queueN.Store(0)
	w.mu.Unlock()
	for i := range rows {
		w.add(rows[i])
		var zero T
		rows[i] = zero // let the strings go
	}
}

// drop counts lost rows and warns at most once a second.
func (w *batchWriter[T]) drop(n int, why string) {
	w.dropped.Add(int64(n))
	w.dropsSinceWarning.Add(int64(n))
	now := time.Now().UnixNano()
	last := w.lastDropWarn.Load()
	if now-last >= int64(time.Second) && w.lastDropWarn.CompareAndSwap(last, now) {
		w.log.Warn("realtime: "+w.what+" dropped", "reason", why, "rows", w.dropsSinceWarning.Swap(0),
			"dropped_total", w.dropped.Load())
	}
}

// run writes batches (full, or every LogFlushInterval) until ctx ends.
func (w *batchWriter[T]) run(ctx context.Context) {
	if w.store == nil {
		<-ctx.Done()
		return
	}
	tick := time.NewTicker(w.cfg.FlushInterval)
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
func (w *batchWriter[T]) toSpool() {
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
	w.pending, w.tried = w.pending[:0], 0
	w.pendingN.Store(0)
}

// replay writes the spooled rows back once the database takes writes again.
func (w *batchWriter[T]) replay(ctx context.Context) {
	if w.spool == nil {
		return
	}
	if n, _ := w.spool.Len(); n == 0 {
		return
	}
	n, err := w.spool.Replay(ctx, w.cfg.Batch, func(batch [][]byte) error {
		rows := make([]T, 0, len(batch))
		for _, b := range batch {
			var r T
			if json.Unmarshal(b, &r) == nil {
				rows = append(rows, r)
			}
		}
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		defer cancel()
		return w.insert(wctx, rows, true)
	})
	w.written.Add(int64(n))
	if err != nil {
		w.backoff = min(max(2*w.backoff, w.cfg.FlushInterval), w.cfg.RetryMax)
		w.retryAt = time.Now().Add(w.backoff)
		w.log.Warn("realtime: replaying spooled "+w.what+" failed; kept for the next try", "replayed", n, "err", err)
		return
	}
	w.log.Info("realtime: spooled "+w.what+" written", "rows", n)
}

// add appends to the retry buffer, dropping the oldest batch when it is full.
func (w *batchWriter[T]) add(row T) {
	w.pending = append(w.pending, row)
	if over := len(w.pending) - w.cfg.RetryRows; over > 0 {
		n := min(max(over, w.cfg.Batch), len(w.pending))
		w.pending = append(w.pending[:0], w.pending[n:]...)
		w.tried = max(w.tried-n, 0)
		w.drop(n, "database unavailable, retry buffer full")
	}
	w.pendingN.Store(int64(len(w.pending)))
}

// write sends pending rows batch by batch unless a backoff is running; it stops at
// the first failure and schedules the retry. force ignores the backoff (shutdown).
func (w *batchWriter[T]) write(ctx context.Context, force bool) error {
	if !force && time.Now().Before(w.retryAt) {
		return nil
	}
	for len(w.pending) > 0 {
		n := min(len(w.pending), w.cfg.Batch)
		retry := w.tried > 0
		if retry {
			n = min(n, w.tried) // rows tried before go on their own
		}
		wctx, cancel := context.WithTimeout(ctx, writeTimeout)
		err := w.insert(wctx, w.pending[:n:n], retry)
		cancel()
		if err != nil {
			w.tried = max(w.tried, n)
			w.backoff = min(max(2*w.backoff, w.cfg.FlushInterval), w.cfg.RetryMax)
			w.retryAt = time.Now().Add(w.backoff)
			w.log.Warn("realtime: "+w.what+" not written; kept for retry", "rows", len(w.pending),
				"retry_in", w.backoff, "err", err)
			return err
		}
		w.backoff, w.retryAt = 0, time.Time{}
		w.written.Add(int64(n))
		w.pending = append(w.pending[:0], w.pending[n:]...)
		w.tried = max(w.tried-n, 0)
		w.pendingN.Store(int64(len(w.pending)))
	}
	return nil
}

// insert writes rows; retry says they may be stored already.
func (w *batchWriter[T]) insert(ctx context.Context, rows []T, retry bool) error {
	if rs, ok := w.store.(retryStore[T]); ok && retry {
		return rs.InsertRetry(ctx, rows)
	}
	return w.store.InsertBatch(ctx, rows)
}

// flush writes every queued and pending row, retrying until ctx ends; what is left
// then goes to the spool (written at the next start), or is dropped and counted when
// there is none. Rows enqueued afterwards are dropped.
func (w *batchWriter[T]) flush(ctx context.Context) {
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
			w.pending, w.tried = nil, 0
			w.pendingN.Store(0)
			return
		case <-time.After(w.backoff):
		}
	}
	w.replay(ctx) // a start after an outage: what the last run spooled
}

// stats returns queue depth, retry-buffer size, written and dropped rows.
func (w *batchWriter[T]) stats() (queued, pending int, written, dropped int64) {
	return int(w.queueN.Load()), int(w.pendingN.Load()), w.written.Load(), w.dropped.Load()
}
