package ws

import (
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hapa-project/hapa/auth"
	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/realtime/ws/wsclient"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
	"github.com/hapa-project/hapa/vllm/sim"
)

// wsHarness is a Hub in front of the real engine and simulator (harness) and the real
// authenticator (keyring), served over loopback by httptest, with fake admission and
// observer at the consumer interfaces.
type wsHarness struct {
	*harness
	hub      *Hub
	feedback *realtime.FeedbackRecorder // writes to auth.db
	srv      *httptest.Server
	url      string
	auth     *keyring
	obs      *fakeObserver
}

type wsOpt struct {
	cfg       Config
	sim       sim.Config
	admit     Admitter
	fake      func(req realtime.Request) eventSource // non-nil result replaces the engine for req
	smallBufs bool                                   // tiny server socket buffers: backpressure comes fast
}

func newWSHarness(t testing.TB, o wsOpt) *wsHarness {
	t.Helper()
	ids := realtime.NewCompletionIDs([]byte("ws test secret"))
	eng := newHarness(t, harnessOpt{sim: o.sim, ids: ids})
	w := &wsHarness{harness: eng, auth: newKeyring(t), obs: &fakeObserver{closes: map[int]int{}}}
	w.feedback = realtime.NewFeedbackRecorder(realtime.EngineConfig{LogFlushInterval: 5 * time.Millisecond},
		realtime.FeedbackDeps{IDs: ids, Store: w.auth.db.CompletionEvents()})
	fctx, fcancel := context.WithCancel(context.Background())
	fdone := make(chan struct{})
	go func() { defer close(fdone); _ = w.feedback.Run(fctx) }()
	t.Cleanup(func() { fcancel(); <-fdone })
	hub, err := NewHub(o.cfg, Deps{Engine: eng.e, Auth: w.auth.a, Admit: o.admit, Observer: w.obs, Feedback: w.feedback})
	if err != nil {
		t.Fatal(err)
	}
	if o.fake != nil {
		real := hub.start
		hub.start = func(ctx context.Context, req realtime.Request) (eventSource, error) {
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

// dial connects with the key called name (issued on demand).
func (w *wsHarness) dial(t testing.TB, name string) *wsclient.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	c, err := wsclient.Dial(ctx, w.url, w.auth.key(name), &wsclient.Options{HTTPClient: w.srv.Client()})
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

// keyring issues real API keys, by name, in a SQLite database behind the real
// auth.Authenticator the hub uses: key "hapa_…" is that very plaintext, any other
// name gets a generated key (key returns it). Keys hold code_generation and
// code_completion unless scopes are given.
type keyring struct {
	t    testing.TB
	db   *store.DB
	a    *auth.Authenticator
	mu   sync.Mutex
	keys map[string]issuedKey
}

type issuedKey struct {
	plain  string
	caller realtime.Caller
}

func newKeyring(t testing.TB) *keyring {
	db := storetest.OpenMigrated(t, "sqlite://:memory:")
	a, err := auth.New(auth.Config{JWTSecret: []byte("ws-test-secret-0123456789"), KeyCacheTTL: time.Millisecond, RevalidateTTL: time.Millisecond},
		auth.Deps{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	return &keyring{t: t, db: db, a: a, keys: map[string]issuedKey{}}
}

// add issues the key called name (once) and returns its caller.
func (k *keyring) add(name string, scopes ...string) realtime.Caller {
	k.mu.Lock()
	defer k.mu.Unlock()
	if ik, ok := k.keys[name]; ok {
		return ik.caller
	}
	if len(scopes) == 0 {
		scopes = []string{store.ScopeCodeGeneration, store.ScopeCodeCompletion}
	}
	nk := store.NewKey{Name: name, Scopes: store.Scopes(scopes)}
	ctx := context.Background()
	var plain string
	var ak store.APIKey
	var err error
	if strings.HasPrefix(name, store.KeyPrefix) {
		plain = name
		ak, err = k.db.APIKeys().EnsureKey(ctx, plain, nk)
	} else {
		plain, ak, err = k.db.APIKeys().Create(ctx, nk)
	}
	if err != nil {
		k.t.Fatalf("issue key %s: %v", name, err)
	}
	ik := issuedKey{plain: plain, caller: auth.CallerFromKey(ak)}
	k.keys[name] = ik
	return ik.caller
}

// key returns the plaintext of the key called name, issuing it first if needed.
func (k *keyring) key(name string) string {
	k.add(name)
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.keys[name].plain
}

// revoke revokes key id in the database and drops it from the authenticator's cache,
// as the revoke path does.
func (k *keyring) revoke(id int64) {
	if err := k.a.Keys().Revoke(context.Background(), id); err != nil {
		k.t.Fatalf("revoke %d: %v", id, err)
	}
}

// fakeAdmit refuses a group with a fixed error.
type fakeAdmit struct {
	mu     sync.Mutex
	refuse map[string]*realtime.Error
	calls  atomic.Int64
}

func (f *fakeAdmit) Admit(_ context.Context, _ realtime.Caller, group string) *realtime.Error {
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
func (o *fakeObserver) StreamOpened(realtime.Kind) { o.mu.Lock(); o.streams++; o.mu.Unlock() }
func (o *fakeObserver) StreamClosed(_ realtime.Kind, outcome string) {
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

func (f *fakeSource) Info() realtime.StreamInfo { return realtime.StreamInfo{Model: "fake"} }

func (f *fakeSource) Next(ctx context.Context) (realtime.Event, error) {
	if err := ctx.Err(); err != nil {
		return realtime.Event{}, err
	}
	i := f.sent.Add(1)
	if !f.endless && int(i) > f.n {
		if int(i) == f.n+1 {
			return realtime.Event{Done: &realtime.Done{FinishReason: "stop"}}, nil
		}
		return realtime.Event{}, context.Canceled
	}
	if f.endless {
		time.Sleep(100 * time.Microsecond) // a fast model, not a busy loop
	}
	return realtime.Event{Text: f.piece}, nil
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
