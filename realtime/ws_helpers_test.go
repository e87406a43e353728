package realtime

import (
	"context"
	"github.com/hapa-project/hapa/store"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime/wsclient"
	"github.com/hapa-project/hapa/vllm/sim"
)

// wsHarness is a Hub in front of the real engine and simulator (harness), served over
// loopback by httptest, with fake auth and admission at the consumer interfaces.
type wsHarness struct {
	*harness
	hub  *Hub
	srv  *httptest.Server
	url  string
	auth *fakeAuth
	obs  *fakeObserver
}

type wsOpt struct {
	cfg       WSConfig
	sim       sim.Config
	admit     Admitter
	fake      func(req Request) eventSource // non-nil result replaces the engine for req
	smallBufs bool                          // tiny server socket buffers: backpressure comes fast
}

func newWSHarness(t testing.TB, o wsOpt) *wsHarness {
	t.Helper()
	eng := newHarness(t, harnessOpt{sim: o.sim})
	w := &wsHarness{harness: eng, auth: newFakeAuth(), obs: &fakeObserver{closes: map[int]int{}}}
	hub, err := NewHub(o.cfg, HubDeps{Engine: eng.e, Auth: w.auth, Admit: o.admit, Observer: w.obs})
	if err != nil {
		t.Fatal(err)
	}
	if o.fake != nil {
		real := hub.start
		hub.start = func(ctx context.Context, req Request) (eventSource, error) {
			if src := o.fake(req); src != nil {
				return src, nil
			}
			return real(ctx, req)
		}
	}
	w.hub = hub
	mux := http.NewServeMux()
	mux.Handle("GET /api/v1/realtime", hub)
	w.srv = httptest.NewUnstartedServer(mux)
	if o.smallBufs {
		w.srv.Listener = smallBufListener{w.srv.Listener}
	}
	w.srv.Start()
	w.url = "ws" + strings.TrimPrefix(w.srv.URL, "http") + "/api/v1/realtime"
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = hub.Shutdown(ctx)
		w.srv.Close()
	})
	return w
}

// dial connects with the key of user n (keys are "key-<n>", created on demand).
func (w *wsHarness) dial(t testing.TB, key string) *wsclient.Client {
	t.Helper()
	w.auth.add(key)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := wsclient.Dial(ctx, w.url, key, &wsclient.Options{HTTPClient: w.srv.Client()})
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

func testCtx(t testing.TB) context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// smallBufListener shrinks the send buffer of accepted sockets.
type smallBufListener struct{ net.Listener }

func (l smallBufListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if tc, ok := c.(*net.TCPConn); ok {
		_ = tc.SetWriteBuffer(4096)
	}
	return c, err
}

// fakeAuth knows keys by name; key "key-N" has KeyID N. Revoked keys fail Revalidate.
type fakeAuth struct {
	mu      sync.Mutex
	keys    map[string]Caller
	revoked map[int64]bool
	nextID  int64
}

func newFakeAuth() *fakeAuth {
	return &fakeAuth{keys: map[string]Caller{}, revoked: map[int64]bool{}}
}

func (a *fakeAuth) add(key string) Caller {
	a.mu.Lock()
	defer a.mu.Unlock()
	if c, ok := a.keys[key]; ok {
		return c
	}
	a.nextID++
	c := Caller{KeyID: a.nextID, UserID: 100 + a.nextID, Scopes: []string{store.ScopeCodeGeneration, store.ScopeCodeCompletion}}
	a.keys[key] = c
	return c
}

func (a *fakeAuth) revoke(id int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.revoked[id] = true
}

func (a *fakeAuth) Authenticate(r *http.Request) (Caller, *Error) {
	key := r.Header.Get("X-API-Key")
	if key == "" {
		key, _ = strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	}
	if key == "" {
		key = SubprotocolKey(r)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	c, ok := a.keys[key]
	switch {
	case !ok:
		return Caller{}, NewError(CodeInvalidKey, "")
	case a.revoked[c.KeyID]:
		return Caller{}, NewError(CodeKeyRevoked, "")
	}
	return c, nil
}

func (a *fakeAuth) Revalidate(_ context.Context, c Caller) *Error {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.revoked[c.KeyID] {
		return NewError(CodeKeyRevoked, "")
	}
	return nil
}

// fakeAdmit refuses a group with a fixed error.
type fakeAdmit struct {
	mu     sync.Mutex
	refuse map[string]*Error
	calls  atomic.Int64
}

func (f *fakeAdmit) Admit(_ context.Context, _ Caller, group string) *Error {
	f.calls.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.refuse[group]
}

// fakeObserver counts what the hub reports.
type fakeObserver struct {
	mu               sync.Mutex
	opened, streams  int
	closes           map[int]int
	outcomes         []string
	framesIn, frames atomic.Int64
}

func (o *fakeObserver) SessionOpened() { o.mu.Lock(); o.opened++; o.mu.Unlock() }
func (o *fakeObserver) SessionClosed(code int) {
	o.mu.Lock()
	o.closes[code]++
	o.mu.Unlock()
}
func (o *fakeObserver) StreamOpened(Kind) { o.mu.Lock(); o.streams++; o.mu.Unlock() }
func (o *fakeObserver) StreamClosed(_ Kind, outcome string) {
	o.mu.Lock()
	o.outcomes = append(o.outcomes, outcome)
	o.mu.Unlock()
}
func (o *fakeObserver) FrameReceived(string)  { o.framesIn.Add(1) }
func (o *fakeObserver) FrameSent(string, int) { o.frames.Add(1) }

func (o *fakeObserver) closed(code int) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.closes[code]
}

// fakeSource emits pieces of text as fast as they are read, then Done; with endless
// set it never ends until cancelled. closed counts Close calls.
type fakeSource struct {
	piece   string
	n       int
	endless bool
	closed  atomic.Int32
	sent    atomic.Int64
}

func (f *fakeSource) Info() StreamInfo { return StreamInfo{Model: "fake"} }

func (f *fakeSource) Next(ctx context.Context) (Event, error) {
	if err := ctx.Err(); err != nil {
		return Event{}, err
	}
	i := f.sent.Add(1)
	if !f.endless && int(i) > f.n {
		if int(i) == f.n+1 {
			return Event{Done: &Done{FinishReason: "stop"}}, nil
		}
		return Event{}, context.Canceled
	}
	if f.endless {
		time.Sleep(100 * time.Microsecond) // a fast model, not a busy loop
	}
	return Event{Text: f.piece}, nil
}

func (f *fakeSource) Close() { f.closed.Add(1) }

// waitUntil polls cond for conditions that follow asynchronously (a close seen by the
// server after the client saw it).
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}
