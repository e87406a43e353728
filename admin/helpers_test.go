package admin

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/vllm"
)

const (
	testEmail    = "root@example.com"
	testPassword = "correct horse battery"
)

// clock is a settable test clock shared by the store and the handler.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.t = c.t.Add(d)
	c.mu.Unlock()
}

// fakeUpstreams is a fixed replica list.
type fakeUpstreams struct {
	sim      bool
	replicas []vllm.ReplicaState
}

func (f fakeUpstreams) Replicas() []vllm.ReplicaState { return f.replicas }
func (f fakeUpstreams) Simulated() bool               { return f.sim }

// env is one console over a fresh SQLite database with one admin.
type env struct {
	t       testing.TB
	db      *store.DB
	h       *Handler
	clock   *clock
	cache   *store.MemoryCache
	admin   store.User
	revoked []int64
	mu      sync.Mutex
}

func newEnv(t *testing.T, mod ...func(*Deps)) *env {
	t.Helper()
	ctx := context.Background()
	clk := &clock{t: time.Date(2026, 12, 1, 12, 0, 0, 0, time.UTC)}
	db, err := store.Open(ctx, "sqlite://:memory:", store.WithClock(clk.Now))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	hash := adminHash()
	admin, err := db.Users().Create(ctx, store.User{Email: testEmail, Role: store.RoleAdmin, PasswordHash: &hash})
	if err != nil {
		t.Fatal(err)
	}
	e := &env{t: t, db: db, admin: admin, clock: clk, cache: store.NewMemoryCache(100, clk.Now)}
	deps := Deps{DB: db, Cache: e.cache, Now: clk.Now,
		Upstreams: fakeUpstreams{sim: true, replicas: []vllm.ReplicaState{{URL: "http://sim.internal", Healthy: true, Circuit: vllm.CircuitClosed, Adapters: vllm.Adapters()}}},
		OnRevoke:  func(id int64) { e.mu.Lock(); e.revoked = append(e.revoked, id); e.mu.Unlock() }}
	for _, m := range mod {
		m(&deps)
	}
	h, err := New(Config{}, deps)
	if err != nil {
		t.Fatal(err)
	}
	h.sleep = func(time.Duration) {}
	e.h = h
	return e
}

// browser sends requests straight to the handler and keeps the session cookie, like
// a same-origin browser tab (no Origin header on GET, Sec-Fetch-Site same-origin).
type browser struct {
	e      *env
	host   string
	cookie *http.Cookie
	flash  *http.Cookie // the one-time key cookie (flash.go)
	ip     string       // the client address; default 192.0.2.10
}

func (e *env) browser() *browser { return &browser{e: e, host: "console.example"} }

// response is a finished request with its parsed document.
type response struct {
	*http.Response
	Body string
	Doc  *goquery.Document
}

func (b *browser) do(method, target string, form url.Values, hdr ...string) response {
	b.e.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req := httptest.NewRequest(method, "http://"+b.host+target, body)
	req.RemoteAddr = "192.0.2.10:5555"
	if b.ip != "" {
		req.RemoteAddr = b.ip + ":5555"
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	if b.cookie != nil {
		req.AddCookie(b.cookie)
	}
	if b.flash != nil {
		req.AddCookie(b.flash)
	}
	w := httptest.NewRecorder()
	b.e.h.ServeHTTP(w, req)
	res := w.Result()
	for _, c := range res.Cookies() {
		switch c.Name {
		case cookiePlain, cookieSecure:
			if c.MaxAge < 0 {
				b.cookie = nil
			} else {
				b.cookie = c
			}
		case "hapa_flash", "__Host-hapa_flash":
			if c.MaxAge < 0 {
				b.flash = nil
			} else {
				b.flash = c
			}
		}
	}
	raw, _ := io.ReadAll(res.Body)
	doc, err := goquery.NewDocumentFromReader(strings.NewReader(string(raw)))
	if err != nil {
		b.e.t.Fatal(err)
	}
	return response{Response: res, Body: string(raw), Doc: doc}
}

func (b *browser) get(target string) response { b.e.t.Helper(); return b.do("GET", target, nil) }

// follow GETs the Location of a redirect.
func (b *browser) follow(r response) response {
	b.e.t.Helper()
	if r.StatusCode != http.StatusSeeOther {
		b.e.t.Fatalf("status %d, want 303\n%s", r.StatusCode, r.Body)
	}
	return b.get(r.Header.Get("Location"))
}

func (b *browser) post(target string, form url.Values, hdr ...string) response {
	b.e.t.Helper()
	if form == nil {
		form = url.Values{}
	}
	return b.do("POST", target, form, hdr...)
}

// adminHash is the Argon2id hash of testPassword, computed once per test binary:
// Argon2id takes seconds under the race detector.
var adminHash = sync.OnceValue(func() string {
	h, err := store.HashPassword(testPassword)
	if err != nil {
		panic(err)
	}
	return h
})

// login starts a session for the test admin the way loginSubmit does, without the
// password check (which the login tests cover).
func (b *browser) login() {
	b.e.t.Helper()
	token, id := newToken()
	if err := b.e.h.sessions().create(context.Background(), id, b.e.admin.ID, b.e.clock.Now(), "test", "192.0.2.10"); err != nil {
		b.e.t.Fatal(err)
	}
	name := cookiePlain
	if h, _, _ := strings.Cut(b.host, ":"); h == "localhost" || h == "127.0.0.1" {
		name = cookieSecure
	}
	b.cookie = &http.Cookie{Name: name, Value: token}
}

// loginForm signs in through the login form and fails the test otherwise.
func (b *browser) loginForm() {
	b.e.t.Helper()
	res := b.post("/admin/login", url.Values{"email": {testEmail}, "password": {testPassword}})
	if res.StatusCode != http.StatusSeeOther || b.cookie == nil {
		b.e.t.Fatalf("login: status %d, cookie %v\n%s", res.StatusCode, b.cookie, res.Body)
	}
}

// testid selects elements by data-testid.
func (r response) testid(id string) *goquery.Selection {
	return r.Doc.Find(`[data-testid="` + id + `"]`)
}

func wantStatus(t *testing.T, r response, status int) {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status %d, want %d\n%s", r.StatusCode, status, r.Body)
	}
}
