package realtime

import (
	"context"
	"log/slog"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
)

// TestRequestLogSpoolsThroughAnOutage: while the database fails, rows go to the spool
// on disk instead of a memory buffer that drops the oldest; a restart (a new writer on
// the same spool) and the database's return write every row, none dropped.
func TestRequestLogSpoolsThroughAnOutage(t *testing.T) {
	dir := t.TempDir()
	sp, err := store.OpenSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	s := &fakeLogStore{}
	s.failing.Store(true)
	cfg := EngineConfig{LogQueue: 1000, LogBatch: 16, LogRetryRows: 10, LogFlushInterval: 5 * time.Millisecond,
		LogRetryMax: 20 * time.Millisecond, FlushTimeout: 50 * time.Millisecond}
	w := newLogWriter(cfg, s, sp, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.run(ctx) }()
	for i := range 100 { // ten times what the memory buffer holds
		w.enqueue(store.RequestLogRow{RequestID: "r" + string(rune('A'+i%26)), TokensOut: i})
		time.Sleep(time.Millisecond)
	}
	waitEngine(t, "rows spooled", func() bool { n, _ := sp.Len(); return n == 100 })
	cancel()
	<-done
	w.flush(context.Background()) // the database is still down: nothing to write, nothing lost
	if _, _, _, dropped := w.stats(); dropped != 0 {
		t.Fatalf("%d rows dropped during the outage", dropped)
	}
	sp.Close()

	// A new process on the same spool, the database back.
	sp, err = store.OpenSpool(dir, 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	s.failing.Store(false)
	w = newLogWriter(cfg, s, sp, slog.New(slog.DiscardHandler))
	ctx, cancel = context.WithCancel(context.Background())
	done = make(chan struct{})
	go func() { defer close(done); w.run(ctx) }()
	waitEngine(t, "spooled rows written", func() bool { return len(s.snapshot()) == 100 })
	cancel()
	<-done
	sum := 0
	for _, r := range s.snapshot() {
		sum += r.TokensOut
	}
	if n, _ := sp.Len(); n != 0 || sum != 99*100/2 {
		t.Fatalf("%d rows left in the spool; tokens %d, want every row once", n, sum)
	}
}
