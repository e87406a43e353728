package realtime

import (
	"context"
	"log/slog"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/hapa-project/hapa/store"
)

func TestRequestLogBackoff(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeLogStore{}
		s.failing.Store(true)
		w := newLogWriter(EngineConfig{LogQueue: 10, LogBatch: 10, LogRetryRows: 100,
			LogFlushInterval: 100 * time.Millisecond, LogRetryMax: time.Second}, s, nil, slog.New(slog.DiscardHandler))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); w.run(ctx) }()

		w.enqueue(store.RequestLogRow{RequestID: "r1"})
		time.Sleep(5 * time.Second)
		synctest.Wait()
		// Every tick (50 in 5s) without backoff; 100ms, 200ms, 400ms, 800ms, then 1s apart with it.
		if n := s.fails.Load(); n < 6 || n > 10 {
			t.Fatalf("%d attempts in 5s, want about 8 (exponential backoff capped at 1s)", n)
		}
		s.failing.Store(false)
		time.Sleep(1100 * time.Millisecond)
		synctest.Wait()
		if rows := s.snapshot(); len(rows) != 1 || rows[0].RequestID != "r1" {
			t.Fatalf("rows after recovery %+v", rows)
		}
		cancel()
		<-done
	})
}

// TestRequestLogWakesOnFullBatch: rows wait for the tick until a batch is full, which
// wakes the writer at once; rows enqueued while the writer flushes on shutdown are
// either written or counted as dropped.
func TestRequestLogWakesOnFullBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeLogStore{}
		w := newLogWriter(EngineConfig{LogQueue: 100, LogBatch: 4, LogRetryRows: 100,
			LogFlushInterval: time.Hour, LogRetryMax: time.Second}, s, nil, slog.New(slog.DiscardHandler))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); w.run(ctx) }()

		for range 3 {
			w.enqueue(store.RequestLogRow{})
		}
		time.Sleep(time.Minute)
		synctest.Wait()
		if q, _, written, _ := w.stats(); len(s.snapshot()) != 0 || q != 3 || written != 0 {
			t.Fatalf("before a full batch: %d rows written, %d queued; want 0 and 3", len(s.snapshot()), q)
		}
		w.enqueue(store.RequestLogRow{}) // the fourth fills the batch
		synctest.Wait()
		if q, _, written, _ := w.stats(); len(s.snapshot()) != 4 || q != 0 || written != 4 {
			t.Fatalf("after a full batch: %d rows written, %d queued; want 4 and 0", len(s.snapshot()), q)
		}
		w.enqueue(store.RequestLogRow{})
		time.Sleep(time.Hour) // the tick takes a partial batch
		synctest.Wait()
		if n := len(s.snapshot()); n != 5 {
			t.Fatalf("after the tick: %d rows written, want 5", n)
		}
		cancel()
		<-done

		// Shutdown: rows racing the final flush are written or dropped, never lost.
		var wg sync.WaitGroup
		for range 4 {
			wg.Go(func() {
				for range 50 {
					w.enqueue(store.RequestLogRow{})
				}
			})
		}
		w.flush(context.Background())
		wg.Wait()
		_, _, written, dropped := w.stats()
		if written+dropped != 5+200 || int(written) != len(s.snapshot()) {
			t.Fatalf("written %d + dropped %d, want 205 (store holds %d)", written, dropped, len(s.snapshot()))
		}
	})
}

// TestRequestLogQueueSmallerThanBatch: with LogQueue below LogBatch the queue never
// reaches a batch, so enqueue never wakes the writer and only the tick takes rows; rows
// beyond LogQueue in one tick are dropped although the writer is idle. Before the queue
// became a slice the writer took every row as it came (into the retry buffer) and
// dropped none.
func TestRequestLogQueueSmallerThanBatch(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		s := &fakeLogStore{}
		w := newLogWriter(EngineConfig{LogQueue: 4, LogBatch: 8, LogRetryRows: 100,
			LogFlushInterval: time.Second, LogRetryMax: time.Second}, s, nil, slog.New(slog.DiscardHandler))
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan struct{})
		go func() { defer close(done); w.run(ctx) }()
		for range 6 {
			w.enqueue(store.RequestLogRow{})
			synctest.Wait() // the writer is idle between rows
		}
		if _, _, _, dropped := w.stats(); dropped != 0 {
			t.Errorf("%d rows dropped by an idle writer (LogQueue 4 < LogBatch 8)", dropped)
		}
		cancel()
		<-done
	})
}

// TestRequestLogQueuedStat: once enqueue and take have returned, stats' queue depth is
// the queue's length. enqueue stores len(queue) after it unlocked mu, so a take between
// the unlock and the store is overwritten with the old depth (and two enqueues may store
// out of order): the gauge shows rows that the writer has already taken.
func TestRequestLogQueuedStat(t *testing.T) {
	w := newLogWriter(EngineConfig{LogQueue: 1 << 20, LogBatch: 1 << 20, LogRetryRows: 1 << 20}, &fakeLogStore{}, nil,
		slog.New(slog.DiscardHandler))
	// The interleaving is up to the scheduler: rounds run for 700ms (a fixed writer
	// never fails here; the unfixed one fails within it on almost every run).
	deadline := time.Now().Add(700 * time.Millisecond)
	for round := 0; time.Now().Before(deadline); round++ {
		var wg sync.WaitGroup
		start := make(chan struct{})
		wg.Go(func() { <-start; w.enqueue(store.RequestLogRow{}) })
		wg.Go(func() { <-start; w.take() })
		close(start)
		wg.Wait()
		w.mu.Lock()
		n := len(w.queue)
		w.mu.Unlock()
		if q, _, _, _ := w.stats(); q != n {
			t.Fatalf("round %d: stats queued %d, queue holds %d", round, q, n)
		}
		w.take()
	}
}
