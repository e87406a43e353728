package realtime

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/vllm/sim"
)

func TestRequestLogOneRowPerRequest(t *testing.T) {
	h := newHarness(t, harnessOpt{sim: sim.Config{ITL: 2 * time.Millisecond}})
	ctx := context.Background()
	var wg sync.WaitGroup
	for i := range 3 { // one flight, two joiners
		req := genReq("download a file over http")
		req.RequestID = string(rune('a' + i))
		req.Caller = Caller{KeyID: 5, UserID: 9}
		s, err := h.e.Start(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		wg.Go(func() { defer s.Close(); drain(t, s) })
	}
	wg.Wait()
	cachedReq := genReq("download a file over http")
	cachedReq.Caller = Caller{KeyID: 5, UserID: 9}
	if _, err := h.e.Generate(ctx, cachedReq); err != nil { // cache hit
		t.Fatal(err)
	}
	waitEngine(t, "4 rows", func() bool { return h.e.Stats().LogWritten == 4 })
	var cached, coalesced int
	for _, r := range h.logs.snapshot() {
		if r.Status != 200 || r.KeyID == nil || *r.KeyID != 5 || r.UserID == nil || *r.UserID != 9 || r.Kind != "generation" || r.Adapter != "prompt" || r.Route != "test" ||
			r.TokensOut == 0 || r.TokensIn == 0 || r.LatencyMs <= 0 || r.CreatedAt.IsZero() {
			t.Fatalf("row %+v", r)
		}
		if r.Cached {
			cached++
		}
		// Every row that read the flight names the replica that served it; a cache
		// hit names none.
		if (r.Upstream == "") != r.Cached || (r.Upstream != "" && !strings.HasPrefix(r.Upstream, "http://127.0.0.1:")) {
			t.Fatalf("row of %q names replica %q (cached %v)", r.RequestID, r.Upstream, r.Cached)
		}
		if r.Coalesced {
			coalesced++
		}
	}
	if cached != 1 || coalesced != 2 {
		t.Fatalf("cached %d coalesced %d, want 1 and 2", cached, coalesced)
	}
	if st := h.e.Stats(); st.LogWritten != 4 || st.LogDropped != 0 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRequestLogSurvivesDatabaseOutage(t *testing.T) {
	h := newHarness(t, harnessOpt{noCache: true})
	h.logs.failing.Store(true)
	for range 5 {
		res, err := h.e.Generate(context.Background(), genReq("connect to a database"))
		if err != nil || res.Text == "" {
			t.Fatalf("request during a database outage: %v", err)
		}
	}
	waitEngine(t, "rows kept for retry", func() bool { return h.e.Stats().LogPending == 5 && h.logs.fails.Load() >= 2 })
	if len(h.logs.snapshot()) != 0 {
		t.Fatal("rows written while failing")
	}
	h.logs.failing.Store(false)
	waitEngine(t, "rows written after recovery", func() bool {
		st := h.e.Stats()
		return st.LogWritten == 5 && st.LogPending == 0
	})
	if st := h.e.Stats(); st.LogDropped != 0 || len(h.logs.snapshot()) != 5 {
		t.Fatalf("stats %+v, rows %d", st, len(h.logs.snapshot()))
	}
}

func TestRequestLogFlushedOnShutdown(t *testing.T) {
	h := newHarness(t, harnessOpt{noCache: true, cfg: EngineConfig{LogFlushInterval: time.Hour, LogBatch: 100}})
	for range 3 {
		if _, err := h.e.Generate(context.Background(), genReq("zip a folder")); err != nil {
			t.Fatal(err)
		}
	}
	waitEngine(t, "rows queued", func() bool { st := h.e.Stats(); return st.LogQueued+st.LogPending == 3 })
	if len(h.logs.snapshot()) != 0 {
		t.Fatal("written before the interval")
	}
	h.stop()
	if got := len(h.logs.snapshot()); got != 3 {
		t.Fatalf("rows after shutdown = %d, want 3", got)
	}
	if _, err := h.e.Start(context.Background(), genReq("zip a folder")); AsError(err).Code != CodeModelUnavailable {
		t.Fatalf("Start after shutdown: %v", err)
	}
}

func TestRequestLogBounds(t *testing.T) {
	discard := slog.New(slog.DiscardHandler)
	t.Run("queue full drops", func(t *testing.T) {
		w := newLogWriter(EngineConfig{LogQueue: 2, LogBatch: 2, LogRetryRows: 4}, &fakeLogStore{}, nil, discard)
		for range 5 {
			w.enqueue(store.RequestLogRow{})
		}
		if q, _, _, dropped := w.stats(); q != 2 || dropped != 3 {
			t.Fatalf("queued %d dropped %d", q, dropped)
		}
	})
	t.Run("retry buffer full drops oldest", func(t *testing.T) {
		s := &fakeLogStore{}
		s.failing.Store(true)
		w := newLogWriter(EngineConfig{LogQueue: 10, LogBatch: 2, LogRetryRows: 4, LogFlushInterval: time.Millisecond,
			LogRetryMax: time.Millisecond}, s, nil, discard)
		for i := range 6 {
			w.add(store.RequestLogRow{RequestID: string(rune('a' + i))})
		}
		if _, pending, _, dropped := w.stats(); pending != 4 || dropped != 2 || w.pending[0].RequestID != "c" {
			t.Fatalf("pending %d dropped %d first %q", pending, dropped, w.pending[0].RequestID)
		}
		ctx, cancel := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancel()
		w.flush(ctx) // still failing: the deadline drops the rest
		if _, pending, _, dropped := w.stats(); pending != 0 || dropped != 6 {
			t.Fatalf("after flush deadline: pending %d dropped %d", pending, dropped)
		}
		w.enqueue(store.RequestLogRow{}) // closed writer
		if _, _, _, dropped := w.stats(); dropped != 7 {
			t.Fatalf("enqueue after flush not dropped")
		}
	})
	t.Run("no store", func(t *testing.T) {
		w := newLogWriter(EngineConfig{LogQueue: 1}, nil, nil, discard)
		w.enqueue(store.RequestLogRow{})
		w.flush(context.Background())
		if q, p, wr, d := w.stats(); q+p != 0 || wr+d != 0 {
			t.Fatal("a writer without store counts rows")
		}
	})
}

func TestCancelledAndClosedStreams(t *testing.T) {
	h := newHarness(t, harnessOpt{noCache: true, sim: sim.Config{ITL: 5 * time.Millisecond}})
	ctx, cancel := context.WithCancel(context.Background())
	s, err := h.e.Start(ctx, genReq("tokenize a sentence"))
	if err != nil {
		t.Fatal(err)
	}
	cancel()
	_, end := drain(t, s)
	if end.Done == nil || end.Done.FinishReason != "cancelled" {
		t.Fatalf("end %+v", end)
	}
	s.Close() // idempotent after the end

	s2, err := h.e.Start(context.Background(), genReq("tokenize a sentence"))
	if err != nil {
		t.Fatal(err)
	}
	s2.Close()
	s2.Close()
	if _, err := s2.Next(context.Background()); err != io.EOF {
		t.Fatalf("Next after Close: %v", err)
	}
	waitEngine(t, "2 rows", func() bool { return len(h.logs.snapshot()) == 2 })
	for _, r := range h.logs.snapshot() {
		if r.Status != statusCancelled {
			t.Fatalf("row %+v", r)
		}
	}
	if st := h.e.Stats(); st.Subscribers != 0 {
		t.Fatalf("subscribers %d", st.Subscribers)
	}
}

var _ LogStore = (*store.RequestLog)(nil)

func TestRequestLogIntoSQLite(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite:///"+t.TempDir()+"/hapa.db")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	srv := newHarness(t, harnessOpt{noCache: true})
	e, err := NewEngine(EngineConfig{LogFlushInterval: time.Millisecond}, EngineDeps{Upstream: srv.e.deps.Upstream, Log: db.RequestLog()})
	if err != nil {
		t.Fatal(err)
	}
	rctx, cancel := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(rctx) }()
	req := genReq("list files recursively")
	req.Caller.KeyID = 3
	if _, err := e.Generate(ctx, req); err != nil {
		t.Fatal(err)
	}
	cancel()
	<-done
	rows, err := db.RequestLog().Since(ctx, time.Time{}, "", 10)
	if err != nil || len(rows) != 1 {
		t.Fatalf("rows %+v, %v", rows, err)
	}
	if r := rows[0]; r.KeyID == nil || *r.KeyID != 3 || r.UserID != nil || r.Adapter != "prompt" || r.TokensOut == 0 {
		t.Fatalf("row %+v", r)
	}
}
