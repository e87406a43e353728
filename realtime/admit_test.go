package realtime

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"
)

// TestAdmit: Start runs Request.Admit once; its error wins over a cache hit and starts
// nothing upstream; admitted requests are served as before.
func TestAdmit(t *testing.T) {
	for _, remote := range []bool{false, true} {
		name := "local cache"
		if remote {
			name = "remote cache"
		}
		t.Run(name, func(t *testing.T) {
			h := newHarness(t, harnessOpt{remote: remote})
			ctx := context.Background()
			var calls atomic.Int32
			refuse := atomic.Bool{}
			limited := NewError(CodeRateLimited, "slow down")
			admit := func(context.Context) error {
				calls.Add(1)
				if refuse.Load() {
					return limited
				}
				return nil
			}
			req := genReq("admit: read a json file")
			req.Admit = admit
			if _, err := h.e.Generate(ctx, req); err != nil { // a miss, filled
				t.Fatal(err)
			}
			if r, err := h.e.Generate(ctx, req); err != nil || !r.Done.Cached { // a hit
				t.Fatalf("hit: %v %+v", err, r.Done)
			}
			if calls.Load() != 2 {
				t.Fatalf("Admit ran %d times for two Starts", calls.Load())
			}
			refuse.Store(true)
			if _, err := h.e.Start(ctx, req); !errors.Is(err, limited) {
				t.Fatalf("refused hit: %v, want the Admit error", err)
			}
			other := genReq("admit: a prompt nobody asked")
			other.Admit = admit
			if _, err := h.e.Start(ctx, other); !errors.Is(err, limited) {
				t.Fatalf("refused miss: %v", err)
			}
			private := genReq("admit: not cacheable")
			private.Temperature, private.Admit = f64(0.9), admit
			if _, err := h.e.Start(ctx, private); !errors.Is(err, limited) {
				t.Fatalf("refused private request: %v", err)
			}
			if got := h.sim.Stats().Requests; got != 1 {
				t.Fatalf("upstream requests = %d, want 1 (refused requests start nothing)", got)
			}
		})
	}
}

// TestAdmitOverlapsARemoteRead: with a remote cache Admit and the cache read run at
// the same time — each waits here until the other has started, which only completes
// when they overlap.
func TestAdmitOverlapsARemoteRead(t *testing.T) {
	cache := newFakeCache()
	h := newHarness(t, harnessOpt{remote: true, cache: cache})
	getStarted, admitStarted := make(chan struct{}), make(chan struct{})
	var overlapped atomic.Bool
	cache.onGet = func() {
		close(getStarted)
		select {
		case <-admitStarted:
			overlapped.Store(true)
		case <-time.After(2 * time.Second):
		}
	}
	req := genReq("admit: overlap")
	req.Admit = func(context.Context) error {
		close(admitStarted)
		select {
		case <-getStarted:
		case <-time.After(2 * time.Second):
		}
		return nil
	}
	s, err := h.e.Start(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	if !overlapped.Load() {
		t.Fatal("the cache read did not run while Admit ran")
	}
}

// countingProfiles counts profile-store reads.
type countingProfiles struct{ n atomic.Int32 }

func (p *countingProfiles) Profile(context.Context, int64) (Profile, error) {
	p.n.Add(1)
	return Profile{}, nil
}

// TestAdmitRefusedDoesNoWork: with a local cache a refused request reads neither the
// profile store nor the cache; with either cache its lookup is not counted as a hit.
func TestAdmitRefusedDoesNoWork(t *testing.T) {
	for _, remote := range []bool{false, true} {
		prof := &countingProfiles{}
		h := newHarness(t, harnessOpt{remote: remote, profiles: prof})
		ctx := context.Background()
		req := genReq("admit: a prompt")
		if _, err := h.e.Generate(ctx, req); err != nil {
			t.Fatal(err)
		}
		before := h.e.Stats()
		req.Caller.UserID = 8 // personalised: rendering reads the profile store
		req.Admit = func(context.Context) error { return NewError(CodeRateLimited, "no") }
		for range 5 {
			if _, err := h.e.Start(ctx, req); err == nil {
				t.Fatal("admitted")
			}
		}
		after := h.e.Stats()
		if after.CacheHits != before.CacheHits || after.CacheMisses != before.CacheMisses {
			t.Errorf("remote %v: 5 refused requests counted %d hits, %d misses", remote,
				after.CacheHits-before.CacheHits, after.CacheMisses-before.CacheMisses)
		}
		if n := prof.n.Load(); !remote && n != 0 {
			t.Errorf("local cache: 5 refused requests read the profile store %d times", n)
		}
	}
}

// TestAdmitPanicReachesTheCaller: a panic in Admit on its own goroutine (remote
// cache) is raised again in Start, where an HTTP handler's recovery sees it.
func TestAdmitPanicReachesTheCaller(t *testing.T) {
	h := newHarness(t, harnessOpt{remote: true})
	req := genReq("admit: panics")
	req.Admit = func(context.Context) error { panic("limiter bug") }
	defer func() {
		if p := recover(); p != "limiter bug" {
			t.Fatalf("recovered %v, want the Admit panic", p)
		}
	}()
	_, _ = h.e.Start(context.Background(), req)
	t.Fatal("Start returned")
}
