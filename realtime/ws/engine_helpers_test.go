package ws

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/vllm"
	"github.com/hapa-project/hapa/vllm/sim"
)

// harness is the real engine over an in-process simulator with an in-memory cache and
// a discarding request log, running until the test ends: the transport under test
// talks to the same engine as in production.
type harness struct {
	e   *realtime.Engine
	sim *sim.Server
}

type harnessOpt struct {
	sim sim.Config
	ids *realtime.CompletionIDs
}

func newHarness(t testing.TB, o harnessOpt) *harness {
	t.Helper()
	h := &harness{sim: sim.New(o.sim)}
	srv := httptest.NewServer(h.sim)
	client, err := vllm.NewClient(vllm.ClientConfig{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	h.e, err = realtime.NewEngine(realtime.EngineConfig{LogFlushInterval: 5 * time.Millisecond, LogRetryMax: 20 * time.Millisecond},
		realtime.EngineDeps{Upstream: client, Cache: store.NewMemoryCache(1000, nil), Log: discardLog{}, CompletionIDs: o.ids})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.e.Run(ctx) }()
	var once sync.Once
	t.Cleanup(func() { once.Do(func() { cancel(); <-done; srv.Close() }) })
	return h
}

type discardLog struct{}

func (discardLog) InsertBatch(context.Context, []store.RequestLogRow) error { return nil }

// drain reads s to its end and returns the text and the terminal event.
func drain(t testing.TB, s *realtime.Stream) (string, realtime.Event) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var text []byte
	for {
		ev, err := s.Next(ctx)
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		text = append(text, ev.Text...)
		if ev.Done != nil || ev.Err != nil {
			return string(text), ev
		}
	}
}
