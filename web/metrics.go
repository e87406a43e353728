package web

import (
	"bytes"
	"net/http"
	"time"

	"github.com/hapa-project/hapa/realtime"
)

// metrics records every request in Deps.Ops.Observer after it finishes: route pattern
// (never the raw path), method, status, duration, and the catalogue code of JSON error
// bodies (read from the first bytes written, where writeError puts error_code).
// Client errors of requests without a request-log row also go to
// Deps.Ops.ClientErrors (countClientError).
func (s *Server) metrics(next http.Handler) http.Handler {
	obs := s.deps.Ops.Observer
	if obs == nil && s.deps.Ops.ClientErrors == nil {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		sw := &codeSniffer{trackingWriter: newTrackingWriter(w)}
		next.ServeHTTP(sw, r)
		status := sw.Status()
		if status == 0 {
			status = http.StatusOK
		}
		if obs != nil {
			obs.Request(stateFrom(r.Context()).pattern, r.Method, status, time.Since(start))
		}
		if sw.code != "" {
			if obs != nil {
				obs.Error(sw.code)
			}
			s.countClientError(r.Context(), sw.code)
		}
	})
}

// codeSniffer is a trackingWriter that remembers the error_code of an error body.
type codeSniffer struct {
	*trackingWriter
	sniffed bool
	code    realtime.Code
}

var errorCodeField = []byte(`"error_code":"`)

func (c *codeSniffer) Write(p []byte) (int, error) {
	if !c.sniffed {
		c.sniffed = true
		if c.trackingWriter.status >= 400 {
			if i := bytes.Index(p, errorCodeField); i >= 0 {
				rest := p[i+len(errorCodeField):]
				if j := bytes.IndexByte(rest, '"'); j > 0 && j <= 8 {
					c.code = realtime.Code(rest[:j])
				}
			}
		}
	}
	return c.trackingWriter.Write(p)
}
