package realtime

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
)

// lossyCommitStore stores every batch but reports the first write as failed, like a
// connection lost while COMMIT's answer was on its way; it tells retries apart.
type lossyCommitStore struct {
	mu      sync.Mutex
	rows    []store.RequestLogRow
	failed  bool
	retries int
}

func (s *lossyCommitStore) InsertBatch(_ context.Context, rows []store.RequestLogRow) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows = append(s.rows, rows...)
	if !s.failed {
		s.failed = true
		return errors.New("connection reset while committing")
	}
	return nil
}

func (s *lossyCommitStore) InsertRetry(_ context.Context, rows []store.RequestLogRow) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.retries++
	for _, r := range rows {
		dup := false
		for _, have := range s.rows {
			if have.RequestID == r.RequestID {
				dup = true
			}
		}
		if !dup {
			s.rows = append(s.rows, r)
		}
	}
	return nil
}

func (s *lossyCommitStore) snapshot() ([]store.RequestLogRow, int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]store.RequestLogRow(nil), s.rows...), s.retries
}

// TestWriterRetriesWithoutDuplicates: rows of a write whose outcome is unknown are
// written again through the store's retry path, which skips what was stored; rows
// queued meanwhile go the plain way.
func TestWriterRetriesWithoutDuplicates(t *testing.T) {
	s := &lossyCommitStore{}
	w := newLogWriter(EngineConfig{LogQueue: 100, LogBatch: 4, LogRetryRows: 100, LogFlushInterval: time.Millisecond,
		LogRetryMax: 5 * time.Millisecond}, s, nil, slog.New(slog.DiscardHandler))
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); w.run(ctx) }()
	for i := range 10 {
		w.enqueue(store.RequestLogRow{RequestID: string(rune('a' + i)), CreatedAt: time.Now()})
		time.Sleep(time.Millisecond)
	}
	waitEngine(t, "every row written", func() bool { rows, _ := s.snapshot(); return len(rows) >= 10 })
	time.Sleep(20 * time.Millisecond)
	cancel()
	<-done
	rows, retries := s.snapshot()
	seen := map[string]int{}
	for _, r := range rows {
		seen[r.RequestID]++
	}
	for id, n := range seen {
		if n != 1 {
			t.Errorf("row %s stored %d times", id, n)
		}
	}
	if len(seen) != 10 || retries == 0 {
		t.Fatalf("%d distinct rows, %d retries; want 10 rows and the failed batch retried", len(seen), retries)
	}
}
