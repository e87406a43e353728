package vllm

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"
)

// Connection reuse: a processed POST is never sent again, a connection with unread
// bytes is not pooled, an early response is returned, and a context's cause survives.
// Each test failed before its fix.

// rawServer accepts connections and hands each to serve with the connection's index.
func rawServer(t *testing.T, serve func(i int, c net.Conn, br *bufio.Reader)) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { ln.Close() })
	go func() {
		for i := 0; ; i++ {
			c, err := ln.Accept()
			if err != nil {
				return
			}
			go func() {
				defer c.Close()
				serve(i, c, bufio.NewReader(c))
			}()
		}
	}()
	return "http://" + ln.Addr().String()
}

// TestTransportDoesNotResendProcessedPost: a POST the server read in full on a reused
// connection, which then closed without an answer (a crash, a proxy's reset), may have
// been processed; net/http does not send a non-idempotent request again then
// (shouldRetryRequest: only nothingWrittenError or a replayable method). This
// transport sends it once more on a new connection: vLLM generates it twice.
func TestTransportDoesNotResendProcessedPost(t *testing.T) {
	var mu sync.Mutex
	var bodies []string
	u := rawServer(t, func(i int, c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			b, _ := io.ReadAll(req.Body)
			mu.Lock()
			bodies = append(bodies, string(b))
			mu.Unlock()
			if string(b) == "processed, then the server died" {
				return // closes without an answer
			}
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	tr := newTransport()
	t.Cleanup(tr.CloseIdleConnections)
	post := func(body string) (*http.Response, error) {
		req, _ := http.NewRequest(http.MethodPost, u+"/v1/completions", strings.NewReader(body))
		return tr.RoundTrip(req)
	}
	resp, err := post("first")
	if err != nil {
		t.Fatal(err)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "ok" {
		t.Fatalf("first: %q", b)
	}
	// The connection is pooled and alive; the server reads this one in full, then dies.
	_, _ = post("processed, then the server died")
	mu.Lock()
	defer mu.Unlock()
	if got := strings.Join(bodies, ","); got != "first,processed, then the server died" {
		t.Fatalf("bodies the server read: %s (the processed POST was sent again)", got)
	}
}

// TestTransportDoesNotPoolConnWithUnreadBytes: a server that sends a body with its
// answer to HEAD (or more bytes than its Content-Length) leaves bytes on the
// connection. net/http's idle reader sees them and closes the connection ("Unsolicited
// response received on idle HTTP channel"); this transport pools it and the next
// request on it reads those bytes as its response.
func TestTransportDoesNotPoolConnWithUnreadBytes(t *testing.T) {
	u := rawServer(t, func(i int, c net.Conn, br *bufio.Reader) {
		for {
			req, err := http.ReadRequest(br)
			if err != nil {
				return
			}
			_, _ = io.Copy(io.Discard, req.Body)
			if req.Method == http.MethodHead { // a buggy server: a body after HEAD
				fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello")
				continue
			}
			fmt.Fprintf(c, "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok")
		}
	})
	tr := newTransport()
	t.Cleanup(tr.CloseIdleConnections)
	resp := get(t, tr, context.Background(), u+"/v1/models") // one pooled connection
	_, _ = io.ReadAll(resp.Body)
	head, _ := http.NewRequest(http.MethodHead, u+"/health", nil)
	resp, err := tr.RoundTrip(head)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	time.Sleep(10 * time.Millisecond) // the stray body arrives (net/http's idle reader sees it)
	req, _ := http.NewRequest(http.MethodGet, u+"/v1/models", nil)
	resp, err = tr.RoundTrip(req)
	if err != nil {
		t.Fatalf("the request after a HEAD with a stray body: %v", err)
	}
	if b, _ := io.ReadAll(resp.Body); string(b) != "ok" {
		t.Fatalf("the request after a HEAD with a stray body read %q", b)
	}
}

// TestTransportKeepsContextCause: a context cancelled with a cause (a watchdog's
// ErrTimeout) ends RoundTrip and body reads with that cause, as net/http does
// (context.Cause since Go 1.23); this transport returns ctx.Err() and loses it.
func TestTransportKeepsContextCause(t *testing.T) {
	release := make(chan struct{})
	t.Cleanup(func() { close(release) })
	srv, _ := countingServer(t, http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/body" {
			fmt.Fprint(w, "data: 1\n\n")
			w.(http.Flusher).Flush()
		}
		select {
		case <-release:
		case <-r.Context().Done():
		}
	}))
	cause := errors.New("watchdog: first token timeout")
	for _, tc := range []struct {
		name string
		tr   http.RoundTripper
	}{{"transport", newTransport()}, {"net/http", http.DefaultTransport.(*http.Transport).Clone()}} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, cancel := context.WithCancelCause(context.Background())
			req, _ := http.NewRequestWithContext(ctx, http.MethodGet, srv.URL+"/headers", nil)
			time.AfterFunc(20*time.Millisecond, func() { cancel(cause) })
			if _, err := tc.tr.RoundTrip(req); !errors.Is(err, cause) {
				t.Errorf("RoundTrip cancelled while waiting for headers: %v, want the cause", err)
			}

			ctx, cancel = context.WithCancelCause(context.Background())
			resp := get(t, tc.tr, ctx, srv.URL+"/body")
			defer resp.Body.Close()
			buf := make([]byte, 64)
			if _, err := resp.Body.Read(buf); err != nil {
				t.Fatal(err)
			}
			cancel(cause)
			var err error
			for err == nil {
				_, err = resp.Body.Read(buf)
			}
			if !errors.Is(err, cause) {
				t.Errorf("body read after the cancel: %v, want the cause", err)
			}
		})
	}
}

// TestTransportReturnsEarlyResponse: a server (or a proxy in front of vLLM) that answers
// a request before reading its body (413, 401) and closes the connection makes the
// body's write fail with EPIPE/ECONNRESET. net/http reads the response while it writes
// and returns it; this transport writes first and returns the write's error (on a
// reused connection it even sends the request again).
func TestTransportReturnsEarlyResponse(t *testing.T) {
	u := rawServer(t, func(i int, c net.Conn, br *bufio.Reader) {
		if _, err := http.ReadRequest(br); err != nil {
			return
		}
		fmt.Fprintf(c, "HTTP/1.1 413 Request Entity Too Large\r\nConnection: close\r\nContent-Length: 3\r\n\r\nbig")
		// As net/http's server does (closeWriteAndWait): FIN, a pause, then the close
		// with the body unread (a reset).
		_ = c.(*net.TCPConn).CloseWrite()
		time.Sleep(100 * time.Millisecond)
	})
	for _, tc := range []struct {
		name string
		tr   http.RoundTripper
	}{{"transport", newTransport()}, {"net/http", http.DefaultTransport.(*http.Transport).Clone()}} {
		t.Run(tc.name, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodPost, u+"/v1/completions", strings.NewReader(strings.Repeat("x", 16<<20)))
			resp, err := tc.tr.RoundTrip(req)
			if err != nil {
				t.Fatalf("an early 413: %v, want the response", err)
			}
			if b, _ := io.ReadAll(resp.Body); resp.StatusCode != http.StatusRequestEntityTooLarge || string(b) != "big" {
				t.Fatalf("an early 413: %d %q", resp.StatusCode, b)
			}
		})
	}
}
