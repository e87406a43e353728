package realtime

import (
	"context"
	"errors"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/vllm"
	"github.com/hapa-project/hapa/vllm/sim"
)

var _ Upstream = (*vllm.Client)(nil)
var _ Upstream = (*vllm.Pool)(nil)

// harness is an engine over an in-process simulator, with fake cache, log store and
// incident recorder, running until the test ends.
type harness struct {
	e         *Engine
	sim       *sim.Server
	cache     *fakeCache
	logs      *fakeLogStore
	incidents *fakeIncidents
	stop      func()
}

type harnessOpt struct {
	cfg      EngineConfig
	sim      sim.Config
	noCache  bool
	profiles Profiles
	cache    *fakeCache
	remote   bool              // the cache reports itself remote (RemoteCache)
	client   vllm.ClientConfig // BaseURL and HTTPClient are set by the harness
	wrap     func(Upstream) Upstream
	ids      *CompletionIDs
}

func newHarness(t testing.TB, o harnessOpt) *harness {
	t.Helper()
	h := &harness{sim: sim.New(o.sim), logs: &fakeLogStore{}, incidents: &fakeIncidents{}, cache: o.cache}
	srv := httptest.NewServer(h.sim)
	o.client.BaseURL = srv.URL // the default transport, as in production
	client, err := vllm.NewClient(o.client)
	if err != nil {
		t.Fatal(err)
	}
	if h.cache == nil {
		h.cache = newFakeCache()
	}
	var up Upstream = client
	if o.wrap != nil {
		up = o.wrap(client)
	}
	deps := EngineDeps{Upstream: up, Log: h.logs, Incidents: h.incidents, Profiles: o.profiles, CompletionIDs: o.ids}
	switch {
	case o.noCache:
	case o.remote:
		deps.Cache = remoteFake{h.cache}
	default:
		deps.Cache = h.cache
	}
	if o.cfg.LogFlushInterval == 0 {
		o.cfg.LogFlushInterval = 5 * time.Millisecond
	}
	if o.cfg.LogRetryMax == 0 {
		o.cfg.LogRetryMax = 20 * time.Millisecond
	}
	h.e, err = NewEngine(o.cfg, deps)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = h.e.Run(ctx) }()
	var once sync.Once
	h.stop = func() { once.Do(func() { cancel(); <-done; srv.Close() }) }
	t.Cleanup(h.stop)
	return h
}

// drain reads s to its end and returns the text and the terminal event.
func drain(t testing.TB, s *Stream) (string, Event) {
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
			if _, err := s.Next(ctx); err == nil {
				t.Fatal("Next after the terminal event: want io.EOF")
			}
			return string(text), ev
		}
	}
}

// waitEngine polls cond (for conditions that follow asynchronously, e.g. a written row).
func waitEngine(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func f64(v float64) *float64 { return &v }

// fakeCache is an in-memory Cache that can be made to fail.
type fakeCache struct {
	mu    sync.Mutex
	m     map[string][]byte
	fail  atomic.Bool
	sets  atomic.Int64
	onGet func() // called at the start of every Get
}

// remoteFake is a fakeCache that says its reads are round trips.
type remoteFake struct{ *fakeCache }

func (remoteFake) Remote() bool { return true }

func newFakeCache() *fakeCache { return &fakeCache{m: map[string][]byte{}} }

var errCacheDown = errors.New("cache down")

func (c *fakeCache) Get(_ context.Context, ns, key string) ([]byte, bool, error) {
	if c.onGet != nil {
		c.onGet()
	}
	if c.fail.Load() {
		return nil, false, errCacheDown
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.m[ns+"/"+key]
	return v, ok, nil
}

func (c *fakeCache) Set(_ context.Context, ns, key string, val []byte, _ time.Duration) error {
	if c.fail.Load() {
		return errCacheDown
	}
	c.sets.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[ns+"/"+key] = val
	return nil
}

// fakeLogStore collects rows; failing makes InsertBatch fail (a database outage).
type fakeLogStore struct {
	mu      sync.Mutex
	rows    []store.RequestLogRow
	failing atomic.Bool
	fails   atomic.Int64
}

func (s *fakeLogStore) InsertBatch(_ context.Context, rows []store.RequestLogRow) error {
	if s.failing.Load() {
		s.fails.Add(1)
		return errors.New("database is down")
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.rows = append(s.rows, rows...)
	return nil
}

func (s *fakeLogStore) snapshot() []store.RequestLogRow {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]store.RequestLogRow(nil), s.rows...)
}

// fakeIncidents records incidents with sequential ids.
type fakeIncidents struct {
	mu    sync.Mutex
	codes []Code
}

func (f *fakeIncidents) Record(_ context.Context, e *Error, _, _ string) string {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.codes = append(f.codes, e.Code)
	return "INC-TEST-" + string(rune('0'+len(f.codes)))
}

func (f *fakeIncidents) list() []Code {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]Code(nil), f.codes...)
}

// fakeProfiles serves stored profiles by user id.
type fakeProfiles map[int64]Profile

func (p fakeProfiles) Profile(_ context.Context, id int64) (Profile, error) { return p[id], nil }

func genPlanUpstream() vllm.Request {
	return vllm.Request{Model: "prompt", Prompt: "x", Messages: []vllm.Message{{Role: "user", Content: "hi"}},
		MaxTokens: 10, Temperature: 0.1, TopP: 0.9}
}
