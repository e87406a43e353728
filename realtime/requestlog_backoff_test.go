package realtime

import (
	"context"
	"log/slog"
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
			LogFlushInterval: 100 * time.Millisecond, LogRetryMax: time.Second}, s, slog.New(slog.DiscardHandler))
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
