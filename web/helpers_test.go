package web

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hapa-project/hapa/auth"
	"github.com/hapa-project/hapa/store"
)

var testSecret = []byte("test-secret-0123456789abcdef")

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

type testEnv struct {
	t    *testing.T
	srv  *Server
	ts   *httptest.Server
	db   *store.DB
	logs *syncBuffer
	auth *auth.Authenticator
}

// newAuth is the authenticator cmd/hapa builds, over db, with a 1 ms key cache (so a
// revocation shows at once) and testSecret for JWTs.
func newAuth(t testing.TB, db *store.DB) *auth.Authenticator {
	t.Helper()
	a, err := auth.New(auth.Config{JWTSecret: testSecret, KeyCacheTTL: time.Millisecond}, auth.Deps{DB: db})
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// openDB opens a migrated in-memory SQLite store.
func openDB(t *testing.T) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	if err != nil {
		t.Fatalf("open store: %v", err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

// newEnv starts a server over real SQLite; mod adjusts config and deps first.
func newEnv(t *testing.T, mod ...func(*Config, *Deps)) *testEnv {
	t.Helper()
	env := &testEnv{t: t, db: openDB(t), logs: &syncBuffer{}}
	cfg := Config{AllowedOrigins: []string{"http://localhost:3000", "vscode-webview://*"}, Version: "9.9.9-test"}
	deps := Deps{
		Logger: slog.New(slog.NewJSONHandler(env.logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
		DB:     env.db,
	}
	for _, m := range mod {
		m(&cfg, &deps)
	}
	if deps.Auth == nil {
		deps.Auth = newAuth(t, deps.DB)
	}
	env.auth = deps.Auth
	srv, err := New(cfg, deps)
	if err != nil {
		t.Fatalf("web.New: %v", err)
	}
	env.srv = srv
	env.ts = httptest.NewServer(srv.Handler())
	t.Cleanup(env.ts.Close)
	return env
}

// resp is a finished response with its body read.
type resp struct {
	*http.Response
	body []byte
}

// json decodes the body into a generic map.
func (r resp) json(t *testing.T) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(r.body, &m); err != nil {
		t.Fatalf("body is not a JSON object: %v\n%s", err, r.body)
	}
	return m
}

// do sends a request; body may be nil, a string (sent raw) or a value (sent as JSON);
// hdr is name, value pairs.
func (e *testEnv) do(method, path string, body any, hdr ...string) resp {
	e.t.Helper()
	return doTo(e.t, e.ts.URL, method, path, body, hdr...)
}

func doTo(t *testing.T, base, method, path string, body any, hdr ...string) resp {
	t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, base+path, rd)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	res, err := http.DefaultClient.Do(req.WithContext(ctx))
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp{Response: res, body: b}
}

// checkError asserts an error response's status, code and the common body fields.
func checkError(t *testing.T, r resp, status int, code string) map[string]any {
	t.Helper()
	if r.StatusCode != status {
		t.Fatalf("status = %d, want %d; body %s", r.StatusCode, status, r.body)
	}
	if ct := r.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("Content-Type = %q", ct)
	}
	m := r.json(t)
	if m["error_code"] != code {
		t.Errorf("error_code = %v, want %s; body %s", m["error_code"], code, r.body)
	}
	for _, k := range []string{"detail", "message", "error_message", "timestamp", "path", "request_id"} {
		if s, _ := m[k].(string); s == "" {
			t.Errorf("field %q missing or empty in %s", k, r.body)
		}
	}
	if m["status"] != "error" {
		t.Errorf("status field = %v", m["status"])
	}
	if m["detail"] != m["message"] || m["detail"] != m["error_message"] {
		t.Errorf("detail/message/error_message differ: %s", r.body)
	}
	if ts, _ := m["timestamp"].(string); ts != "" {
		if _, err := time.Parse(time.RFC3339, ts); err != nil || !strings.HasSuffix(ts, "Z") {
			t.Errorf("timestamp %q is not RFC3339 UTC", ts)
		}
	}
	if rid := r.Header.Get("X-Request-ID"); rid == "" || m["request_id"] != rid {
		t.Errorf("request_id %v, header %q", m["request_id"], rid)
	}
	return m
}

func ioPipe() (*io.PipeReader, *io.PipeWriter) { return io.Pipe() }

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// newKey creates a real API key and returns its plaintext.
func (e *testEnv) newKey(userID *int64, exp *time.Time, scopes ...string) (string, store.APIKey) {
	e.t.Helper()
	plain, k, err := e.db.APIKeys().Create(context.Background(), store.NewKey{UserID: userID, Scopes: scopes, ExpiresAt: exp, TokensPerDay: 1000})
	if err != nil {
		e.t.Fatal(err)
	}
	return plain, k
}

// newUser creates a user and returns its id.
func (e *testEnv) newUser(email string) int64 {
	e.t.Helper()
	u, err := e.db.Users().Create(context.Background(), store.User{Email: email, Name: strings.Split(email, "@")[0]})
	if err != nil {
		e.t.Fatal(err)
	}
	return u.ID
}

func newRecorder() *httptest.ResponseRecorder { return httptest.NewRecorder() }

func fakeTLS() *tls.ConnectionState { return &tls.ConnectionState{} }
