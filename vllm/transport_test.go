package vllm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// countingServer is an httptest server that counts the connections it accepted.
func countingServer(t *testing.T, h http.Handler) (*httptest.Server, *atomic.Int64) {
	t.Helper()
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(h)
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	return srv, &conns
}

func get(t *testing.T, tr http.RoundTripper, ctx context.Context, u string) *http.Response {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

func TestTransportReusesConnections(t *testing.T) {
	srv, conns := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/stream": // chunked
			for i := range 3 {
				fmt.Fprintf(w, "data: %d\n\n", i)
				w.(http.Flusher).Flush()
			}
		case "/empty":
			w.WriteHeader(http.StatusNoContent)
		case "/close":
			w.Header().Set("Connection", "close")
			fmt.Fprint(w, "bye")
		default:
			body, _ := io.ReadAll(r.Body)
			fmt.Fprintf(w, "%s %s", r.Method, body)
		}
	}))
	tr := newTransport()
	t.Cleanup(tr.CloseIdleConnections)
	ctx := context.Background()
	for i := range 3 {
		for _, path := range []string{"/stream", "/empty", "/plain"} {
			resp := get(t, tr, ctx, srv.URL+path)
			b, err := io.ReadAll(resp.Body)
			resp.Body.Close()
			if err != nil || resp.StatusCode/100 != 2 || path == "/stream" && string(b) != "data: 0\n\ndata: 1\n\ndata: 2\n\n" {
				t.Fatalf("%d %s: %d %q %v", i, path, resp.StatusCode, b, err)
			}
		}
	}
	if n := conns.Load(); n != 1 {
		t.Fatalf("%d connections for 9 sequential requests, want 1", n)
	}
	if n := tr.idleCount(); n != 1 {
		t.Fatalf("%d idle connections, want 1", n)
	}
	// A body sent along, and a response that closes its connection.
	req, _ := http.NewRequest(http.MethodPost, srv.URL+"/plain", strings.NewReader("hello"))
	resp, err := tr.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "POST hello" {
		t.Fatalf("echo %q", b)
	}
	resp = get(t, tr, ctx, srv.URL+"/close")
	_, _ = io.ReadAll(resp.Body)
	if n := tr.idleCount(); n != 0 {
		t.Fatalf("a Connection: close response left %d idle connections", n)
	}
}

// TestTransportRetriesStaleConnection: a server that closes each connection after one
// answer (without saying so) makes the second request find its reused connection dead;
// it is sent again, with its body, on a new one. A request on a new connection is not.
func TestTransportRetriesStaleConnection(t *testing.T) {
	var accepted atomic.Int64
	var mu sync.Mutex
	var bodies []string
	u := rawServer(t, func(_ int, c net.Conn, br *bufio.Reader) {
		accepted.Add(1)
		req, err := http.ReadRequest(br)
		if err != nil {
			return
		}
		b, _ := io.ReadAll(req.Body)
		mu.Lock()
		bodies = append(bodies, string(b))
		mu.Unlock()
		if string(b) == "no answer" {
			return
		}
		fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		time.Sleep(20 * time.Millisecond) // the client has pooled the connection by now
	})
	tr := newTransport()
	t.Cleanup(tr.CloseIdleConnections)
	post := func(body string) (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodPost, u+"/v1/completions", strings.NewReader(body))
		return tr.RoundTrip(req)
	}
	for i, body := range []string{"first", "second"} {
		resp, err := post(body)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		if b, _ := io.ReadAll(resp.Body); string(b) != "ok" {
			t.Fatalf("request %d: %q", i, b)
		}
		time.Sleep(50 * time.Millisecond) // the server closes the idle connection
	}
	if n := accepted.Load(); n != 2 {
		t.Fatalf("%d connections, want 2", n)
	}
	tr.CloseIdleConnections()
	if _, err := post("no answer"); err == nil {
		t.Fatal("a new connection closed before any answer gave no error")
	}
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(bodies, ","); got != "first,second,no answer" {
		t.Fatalf("bodies the server read: %s (want each once)", got)
	}
}

// TestTransportCancelAndCloseEndTheConnection: the context's end and an early Close
// both close the connection at once (the server's request context ends), without
// reading the rest of the stream.
func TestTransportCancelAndCloseEndTheConnection(t *testing.T) {
	gone := make(chan struct{}, 4)
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for {
			select {
			case <-r.Context().Done():
				gone <- struct{}{}
				return
			case <-time.After(5 * time.Millisecond):
				fmt.Fprint(w, "data: tick\n\n")
				w.(http.Flusher).Flush()
			}
		}
	}))
	tr := newTransport()
	t.Cleanup(tr.CloseIdleConnections)
	waitGone := func(what string) {
		select {
		case <-gone:
		case <-time.After(5 * time.Second):
			t.Fatalf("%s: the server did not see the connection end", what)
		}
	}

	ctx, cancel := context.WithCancel(context.Background())
	resp := get(t, tr, ctx, srv.URL)
	buf := make([]byte, 64)
	if _, err := resp.Body.Read(buf); err != nil {
		t.Fatal(err)
	}
	cancel()
	waitGone("cancel")
	for {
		_, err := resp.Body.Read(buf)
		if err != nil {
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("read after cancel: %v, want context.Canceled", err)
			}
			break
		}
	}

	resp = get(t, tr, context.Background(), srv.URL)
	if _, err := resp.Body.Read(buf); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	resp.Body.Close()
	if d := time.Since(start); d > time.Second {
		t.Fatalf("Close took %v (it must not drain an endless stream)", d)
	}
	waitGone("close")
	if _, err := resp.Body.Read(buf); !errors.Is(err, http.ErrBodyReadAfterClose) {
		t.Fatalf("read after Close: %v", err)
	}
	if n := tr.idleCount(); n != 0 {
		t.Fatalf("%d idle connections after two aborted streams", n)
	}

	// A context that ended before the request: nothing is sent.
	req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL, nil)
	if _, err := tr.RoundTrip(req); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled request: %v", err)
	}
}

// TestTransportCloseRacesRead closes bodies from another goroutine while they are read
// (go test -race); the pool stays usable.
func TestTransportCloseRacesRead(t *testing.T) {
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for i := range 20 {
			fmt.Fprintf(w, "data: %d\n\n", i)
			w.(http.Flusher).Flush()
		}
	}))
	tr := newTransport()
	t.Cleanup(tr.CloseIdleConnections)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Go(func() {
			resp := get(t, tr, context.Background(), srv.URL)
			done := make(chan struct{})
			go func() {
				defer close(done)
				_, _ = io.Copy(io.Discard, resp.Body)
			}()
			if i%2 == 0 {
				resp.Body.Close()
			}
			<-done
			resp.Body.Close()
		})
	}
	wg.Wait()
	resp := get(t, tr, context.Background(), srv.URL)
	if b, err := io.ReadAll(resp.Body); err != nil || !strings.HasSuffix(string(b), "data: 19\n\n") {
		t.Fatalf("after the races: %q %v", b, err)
	}
}

func TestTransportIdleLimits(t *testing.T) {
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		time.Sleep(10 * time.Millisecond)
		fmt.Fprint(w, "ok")
	}))
	tr := newTransport()
	tr.maxIdle, tr.idleTimeout = 2, 50*time.Millisecond
	t.Cleanup(tr.CloseIdleConnections)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			resp := get(t, tr, context.Background(), srv.URL)
			_, _ = io.ReadAll(resp.Body)
		})
	}
	wg.Wait()
	if n := tr.idleCount(); n != 2 {
		t.Fatalf("%d idle connections, want maxIdle 2", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for tr.idleCount() != 0 {
		if time.Now().After(deadline) {
			t.Fatalf("%d idle connections outlived the idle timeout", tr.idleCount())
		}
		time.Sleep(10 * time.Millisecond)
	}
	// An expired connection found by take is closed, not used.
	resp := get(t, tr, context.Background(), srv.URL)
	_, _ = io.ReadAll(resp.Body)
	tr.mu.Lock()
	for _, list := range tr.idle {
		for _, c := range list {
			c.idleAt = time.Now().Add(-time.Hour)
		}
	}
	tr.mu.Unlock()
	if c := tr.take(hostPort(httptest.NewRequest(http.MethodGet, srv.URL, nil))); c != nil {
		t.Fatal("take returned an expired connection")
	}
}

func TestTransportFallback(t *testing.T) {
	tls := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { fmt.Fprint(w, "tls") }))
	t.Cleanup(tls.Close)
	tr := newTransport()
	t.Cleanup(tr.CloseIdleConnections)
	tr.fallback.TLSClientConfig = tls.Client().Transport.(*http.Transport).TLSClientConfig
	resp := get(t, tr, context.Background(), tls.URL)
	if b, _ := io.ReadAll(resp.Body); string(b) != "tls" {
		t.Fatalf("https through the fallback: %q", b)
	}
	if tr.idleCount() != 0 {
		t.Fatal("an https connection went into the plain-HTTP pool")
	}
	plain := httptest.NewRequest(http.MethodGet, "http://vllm:8000/v1/models", nil)
	if !tr.handles(plain) {
		t.Fatal("a plain-HTTP request is not handled")
	}
	up := plain.Clone(context.Background())
	up.Header.Set("Upgrade", "websocket")
	if tr.handles(up) {
		t.Fatal("an upgrade is handled")
	}
	tr.fallback.Proxy = func(*http.Request) (*url.URL, error) { return url.Parse("http://proxy:3128") }
	if tr.handles(plain) {
		t.Fatal("a proxied request is handled")
	}
	if got := hostPort(plain); got != "vllm:8000" {
		t.Fatalf("hostPort %q", got)
	}
	if got := hostPort(httptest.NewRequest(http.MethodGet, "http://vllm/v1/models", nil)); got != "vllm:80" {
		t.Fatalf("hostPort without a port %q", got)
	}
}
