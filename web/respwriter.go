package web

import (
	"bufio"
	"errors"
	"net"
	"net/http"
)

// trackingWriter wraps an http.ResponseWriter to record the status, the bytes written
// and whether the header has gone out, and to run a hook just before the header is
// written (for headers that must reflect the handler's choices, such as the CSP or
// X-Process-Time). It forwards Flush and Hijack so SSE and WebSocket handlers work
// behind every middleware, and Unwrap for http.ResponseController.
type trackingWriter struct {
	http.ResponseWriter
	status   int
	bytes    int64
	wrote    bool
	onHeader func(h http.Header, status int)
}

func newTrackingWriter(w http.ResponseWriter) *trackingWriter {
	return &trackingWriter{ResponseWriter: w}
}

func (t *trackingWriter) WriteHeader(code int) {
	if t.wrote {
		return
	}
	// 1xx informational responses are not the final header.
	if code >= 100 && code < 200 && code != http.StatusSwitchingProtocols {
		t.ResponseWriter.WriteHeader(code)
		return
	}
	t.wrote = true
	t.status = code
	if t.onHeader != nil {
		t.onHeader(t.Header(), code)
	}
	t.ResponseWriter.WriteHeader(code)
}

func (t *trackingWriter) Write(p []byte) (int, error) {
	if !t.wrote {
		t.WriteHeader(http.StatusOK)
	}
	n, err := t.ResponseWriter.Write(p)
	t.bytes += int64(n)
	return n, err
}

// Status is the status sent, 200 when the handler wrote a body without one, and 0 when
// nothing was written yet.
func (t *trackingWriter) Status() int { return t.status }

func (t *trackingWriter) Flush() {
	if !t.wrote {
		t.WriteHeader(http.StatusOK)
	}
	_ = http.NewResponseController(t.ResponseWriter).Flush()
}

func (t *trackingWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	hj, ok := t.ResponseWriter.(http.Hijacker)
	if !ok {
		return nil, nil, errors.New("web: response writer does not support hijacking")
	}
	if !t.wrote {
		t.wrote = true
		t.status = http.StatusSwitchingProtocols
	}
	return hj.Hijack()
}

func (t *trackingWriter) Unwrap() http.ResponseWriter { return t.ResponseWriter }
