package web

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/auth"
	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// discardWriter is a flushable ResponseWriter that drops the body.
type discardWriter struct {
	h http.Header
	n int64
}

func (d *discardWriter) Header() http.Header         { return d.h }
func (d *discardWriter) WriteHeader(int)             {}
func (d *discardWriter) Write(b []byte) (int, error) { d.n += int64(len(b)); return len(b), nil }
func (d *discardWriter) Flush()                      {}

// tokenSource yields n text events of one token each, then Done, with no waiting.
type tokenSource struct {
	n, i int
	done realtime.Done
}

func (s *tokenSource) Next(context.Context) (realtime.Event, error) {
	switch {
	case s.i < s.n:
		s.i++
		return realtime.Event{Text: " token"}, nil
	case s.i == s.n:
		s.i++
		return realtime.Event{Done: &s.done}, nil
	}
	return realtime.Event{}, io.EOF
}

func (s *tokenSource) Close() {}

// BenchmarkSSERelayPerToken measures the relay's cost per streamed token event
// (JSON framing, marker cut, write and flush, the keep-alive lock), without the engine.
func BenchmarkSSERelayPerToken(b *testing.B) {
	db, err := store.Open(context.Background(), "sqlite://:memory:")
	if err != nil {
		b.Fatal(err)
	}
	defer db.Close()
	srv, err := New(Config{}, Deps{DB: db, Auth: newAuth(b, db)})
	if err != nil {
		b.Fatal(err)
	}
	const tokens = 1000
	r := httptest.NewRequest("POST", "/api/v1/code/generate/stream", nil)
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		w := &discardWriter{h: http.Header{}}
		rl := &sseRelay{srv: srv, w: w, r: r, src: &tokenSource{n: tokens}, style: sseStyle{textType: "token", extension: true}, keepAlive: time.Minute}
		rl.run()
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*tokens), "ns/token")
}

// benchServer is the whole gateway on an in-memory SQLite with the simulator behind
// the engine, and a code_generation key.
func benchServer(b *testing.B, o codeOpts) (*Server, string) {
	db, err := store.Open(context.Background(), "sqlite://:memory:")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(context.Background()); err != nil {
		b.Fatal(err)
	}
	cb := newBackend(b, db, o)
	authn, err := auth.New(auth.Config{JWTSecret: testSecret, KeyCacheTTL: time.Minute}, auth.Deps{DB: db})
	if err != nil {
		b.Fatal(err)
	}
	srv, err := New(Config{}, Deps{DB: db, Auth: authn, Engine: cb.engine})
	if err != nil {
		b.Fatal(err)
	}
	key, _, err := db.APIKeys().Create(context.Background(), store.NewKey{Scopes: []string{ScopeCodeGeneration}})
	if err != nil {
		b.Fatal(err)
	}
	return srv, key
}

// BenchmarkCodeGenerateZeroLatency is one POST /api/v1/code/generate over loopback
// through the whole middleware chain, the real engine and the simulator with zero
// latency; the cache is off so every request reaches the simulator.
func BenchmarkCodeGenerateZeroLatency(b *testing.B) {
	srv, key := benchServer(b, codeOpts{noCache: true})
	ts := httptest.NewServer(srv.Handler())
	defer ts.Close()
	body := []byte(`{"prompt":"write a function that adds two numbers","max_tokens":64,"no_cache":true}`)
	b.ReportAllocs()
	for b.Loop() {
		req, _ := http.NewRequest("POST", ts.URL+"/api/v1/code/generate", bytes.NewReader(body))
		req.Header.Set("X-API-Key", key)
		res, err := ts.Client().Do(req)
		if err != nil {
			b.Fatal(err)
		}
		out, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != 200 || !strings.Contains(string(out), `"success":true`) {
			b.Fatalf("%d %s", res.StatusCode, out)
		}
	}
}

// BenchmarkCodeGenerateCacheHit is one cached POST /api/v1/code/generate through the
// whole middleware chain, called in-process (no socket): the gateway's own cost of a
// cache hit. go test -bench CacheHit -memprofile mem.out ./web/ shows what it allocates.
func BenchmarkCodeGenerateCacheHit(b *testing.B) {
	srv, key := benchServer(b, codeOpts{})
	h := srv.Handler()
	body := []byte(`{"prompt":"write a function that adds two numbers","max_tokens":64,"temperature":0}`)
	call := func() string {
		r := httptest.NewRequest("POST", "/api/v1/code/generate", bytes.NewReader(body))
		r.Header.Set("X-API-Key", key)
		r.Header.Set("Content-Type", "application/json")
		w := httptest.NewRecorder()
		h.ServeHTTP(w, r)
		return w.Body.String()
	}
	if out := call(); !strings.Contains(out, `"success":true`) { // fills the cache
		b.Fatal(out)
	}
	b.ReportAllocs()
	for b.Loop() {
		call()
	}
}
