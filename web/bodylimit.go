package web

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hapa-project/hapa/realtime"
)

// limitBody caps request bodies at max bytes and bounds the time to read them. A
// declared Content-Length above the cap is refused at once with 413 E4010; otherwise the
// body is wrapped in http.MaxBytesReader (decodeJSON maps the read error to E4010). The
// read deadline is cleared as soon as the body ends (net/http also clears it when it
// starts its background read), so it never touches a stream that outlives the body.
func (s *Server) limitBody(max int64, readTimeout time.Duration) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if r.ContentLength > max {
				s.errorWriterFor(r.URL.Path)(w, r, realtime.NewError(realtime.CodePayloadTooLarge,
					fmt.Sprintf("Payload too large: the body exceeds %d bytes", max)))
				return
			}
			if r.Body != nil && r.Body != http.NoBody {
				rc := http.NewResponseController(w)
				if rc.SetReadDeadline(time.Now().Add(readTimeout)) == nil {
					r.Body = &deadlineBody{ReadCloser: r.Body, clear: func() { _ = rc.SetReadDeadline(time.Time{}) }}
				}
				r.Body = http.MaxBytesReader(w, r.Body, max)
			}
			next.ServeHTTP(w, r)
		})
	}
}

// errorWriterFor picks the error body a route's clients read before the route's own
// handler runs: OpenAI's envelope under /v1/, the stream-readable body on the SSE
// routes (the extension reads any status below 500 there as a stream), else the
// standard body.
func (s *Server) errorWriterFor(path string) func(http.ResponseWriter, *http.Request, error) {
	switch {
	case strings.HasPrefix(path, "/v1/"):
		return s.writeOpenAIError
	case strings.HasSuffix(path, "/generate/stream"), strings.HasSuffix(path, "enhanced-stream-generate"):
		return s.writeSSEError
	}
	return s.writeError
}

// deadlineBody clears the connection's read deadline once the body has been read to
// its end (or failed, or was closed).
type deadlineBody struct {
	io.ReadCloser
	once  sync.Once
	clear func()
}

func (b *deadlineBody) Read(p []byte) (int, error) {
	n, err := b.ReadCloser.Read(p)
	if err != nil {
		b.once.Do(b.clear)
	}
	return n, err
}

func (b *deadlineBody) Close() error {
	b.once.Do(b.clear)
	return b.ReadCloser.Close()
}
