package realtime

import (
	"context"
	"testing"

	"github.com/hapa-project/hapa/store"
)

var _ Cache = (*store.MemoryCache)(nil)
var _ Cache = (*store.RedisCache)(nil)

func TestCacheHitReplays(t *testing.T) {
	h := newHarness(t, harnessOpt{})
	ctx := context.Background()
	req := genReq("read a json file and print the keys")
	req.MaxTokens = 120
	miss, err := h.e.Generate(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	if miss.Done.Cached {
		t.Fatal("first request cached")
	}
	s, err := h.e.Start(ctx, req)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if !s.Info().Cached {
		t.Fatal("second request not a cache hit")
	}
	var events int
	var text []byte
	for {
		ev, err := s.Next(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if ev.Done != nil {
			if !ev.Done.Cached || ev.Done.Usage != miss.Done.Usage || ev.Done.FinishReason != miss.Done.FinishReason {
				t.Fatalf("replayed done %+v, generated %+v", ev.Done, miss.Done)
			}
			break
		}
		if len(ev.Text) > replayChunk+3 {
			t.Fatalf("replay chunk of %d bytes", len(ev.Text))
		}
		text = append(text, ev.Text...)
		events++
	}
	if string(text) != miss.Text || events < 2 {
		t.Fatalf("replayed %q in %d events, want %q in chunks", text, events, miss.Text)
	}
	if got := h.sim.Stats().Requests; got != 1 {
		t.Fatalf("upstream requests = %d, want 1", got)
	}
	if st := h.e.Stats(); st.CacheHits != 1 || st.CacheMisses != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestCachePolicy(t *testing.T) {
	tests := []struct {
		name    string
		cfg     EngineConfig
		mod     func(a, b *Request)
		wantHit bool
	}{
		{"same request hits", EngineConfig{}, func(a, b *Request) {}, true},
		{"NoCache bypasses", EngineConfig{}, func(a, b *Request) { b.NoCache = true }, false},
		{"temperature above bound", EngineConfig{}, func(a, b *Request) { a.Temperature, b.Temperature = f64(0.7), f64(0.7) }, false},
		{"temperature at bound", EngineConfig{CacheMaxTemperature: 0.5}, func(a, b *Request) { a.Temperature, b.Temperature = f64(0.5), f64(0.5) }, true},
		{"other sampling misses", EngineConfig{}, func(a, b *Request) { b.MaxTokens = 41 }, false},
		{"global scope shares keys", EngineConfig{}, func(a, b *Request) { a.Caller.KeyID, b.Caller.KeyID = 1, 2 }, true},
		{"key scope separates keys", EngineConfig{CacheScope: CacheScopeKey}, func(a, b *Request) { a.Caller.KeyID, b.Caller.KeyID = 1, 2 }, false},
		{"key scope same key hits", EngineConfig{CacheScope: CacheScopeKey}, func(a, b *Request) { a.Caller.KeyID, b.Caller.KeyID = 3, 3 }, true},
		{"negative bound never caches", EngineConfig{CacheMaxTemperature: -1}, func(a, b *Request) {}, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := newHarness(t, harnessOpt{cfg: tc.cfg})
			a, b := genReq("count words in a text file"), genReq("count words in a text file")
			tc.mod(&a, &b)
			if _, err := h.e.Generate(context.Background(), a); err != nil {
				t.Fatal(err)
			}
			res, err := h.e.Generate(context.Background(), b)
			if err != nil {
				t.Fatal(err)
			}
			if res.Done.Cached != tc.wantHit {
				t.Fatalf("cached = %v, want %v", res.Done.Cached, tc.wantHit)
			}
			wantUp := int64(2)
			if tc.wantHit {
				wantUp = 1
			}
			if got := h.sim.Stats().Requests; got != wantUp {
				t.Fatalf("upstream requests = %d, want %d", got, wantUp)
			}
		})
	}
}

func TestFailingCacheIsBypassed(t *testing.T) {
	c := newFakeCache()
	c.fail.Store(true)
	h := newHarness(t, harnessOpt{cache: c})
	for range 2 {
		res, err := h.e.Generate(context.Background(), genReq("reverse a linked list"))
		if err != nil || res.Text == "" || res.Done.Cached {
			t.Fatalf("request with a failing cache: %+v, %v", res, err)
		}
	}
	st := h.e.Stats()
	if st.CacheErrors < 2 {
		t.Fatalf("cache errors = %d", st.CacheErrors)
	}
	if got := h.incidents.list(); len(got) != 1 || got[0] != CodeCacheError {
		t.Fatalf("incidents %v, want one E5002 (rate-limited)", got)
	}
}

func TestCacheWithStoreMemoryCache(t *testing.T) {
	h := newHarness(t, harnessOpt{noCache: true})
	e2, err := NewEngine(EngineConfig{}, EngineDeps{Upstream: h.e.deps.Upstream, Cache: store.NewMemoryCache(100, nil)})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	first, err := e2.Generate(ctx, genReq("flatten a nested list"))
	if err != nil {
		t.Fatal(err)
	}
	second, err := e2.Generate(ctx, genReq("flatten a nested list"))
	if err != nil || !second.Done.Cached || second.Text != first.Text {
		t.Fatalf("second %+v, %v", second, err)
	}
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_ = e2.Run(cctx)
}

func TestCacheKeyCoversEverything(t *testing.T) {
	base := plan{upstream: genPlanUpstream()}
	k := cacheKey(base, CacheScopeGlobal, 1)
	muts := map[string]func(p *plan){
		"model":       func(p *plan) { p.upstream.Model = "comment" },
		"prompt":      func(p *plan) { p.upstream.Prompt = "y" },
		"message":     func(p *plan) { p.upstream.Messages[0].Content = "other" },
		"role":        func(p *plan) { p.upstream.Messages[0].Role = "assistant" },
		"max_tokens":  func(p *plan) { p.upstream.MaxTokens++ },
		"temperature": func(p *plan) { p.upstream.Temperature = 0.2 },
		"top_p":       func(p *plan) { p.upstream.TopP = 0.5 },
		"stop":        func(p *plan) { p.upstream.Stop = []string{"x"} },
		"seed":        func(p *plan) { s := int64(1); p.upstream.Seed = &s },
	}
	for name, mut := range muts {
		p := plan{upstream: genPlanUpstream()}
		mut(&p)
		if cacheKey(p, CacheScopeGlobal, 1) == k {
			t.Errorf("%s does not change the key", name)
		}
	}
	if cacheKey(base, CacheScopeGlobal, 2) != k {
		t.Error("global scope depends on the key id")
	}
	if cacheKey(base, CacheScopeKey, 2) == cacheKey(base, CacheScopeKey, 1) {
		t.Error("key scope ignores the key id")
	}
}
