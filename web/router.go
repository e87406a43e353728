package web

import (
	"net/http"

	"github.com/hapa-project/hapa/realtime"
)

// dispatch serves mux, recording the matched pattern for the access log, and answers
// the requests that match no route itself: the mux's own answers are plain text, HAPA's
// are the JSON error body (404 → E4011; 405 → E4001 with the Allow header kept).
func (s *Server) dispatch(mux *http.ServeMux) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h, pattern := mux.Handler(r)
		if pattern != "" {
			stateFrom(r.Context()).pattern = pattern
			mux.ServeHTTP(w, r)
			return
		}
		probe := &probeWriter{header: http.Header{}}
		h.ServeHTTP(probe, r)
		switch probe.status {
		case http.StatusMethodNotAllowed:
			if allow := probe.header.Get("Allow"); allow != "" {
				w.Header().Set("Allow", allow)
			}
			s.writeErrorAs(w, r, realtime.NewError(realtime.CodeInvalidInput,
				"Method "+r.Method+" not allowed on "+r.URL.Path), http.StatusMethodNotAllowed, false)
		case http.StatusNotFound, 0:
			s.writeError(w, r, realtime.NewError(realtime.CodeNotFound, "Not found: "+r.Method+" "+r.URL.Path))
		default:
			// Redirects (path cleaning) and anything else the mux decides: pass through.
			for k, v := range probe.header {
				w.Header()[k] = v
			}
			w.WriteHeader(probe.status)
		}
	})
}

// probeWriter captures what the mux's fallback handler would answer.
type probeWriter struct {
	header http.Header
	status int
}

func (p *probeWriter) Header() http.Header { return p.header }
func (p *probeWriter) Write(b []byte) (int, error) {
	if p.status == 0 {
		p.status = http.StatusOK
	}
	return len(b), nil
}
func (p *probeWriter) WriteHeader(code int) {
	if p.status == 0 {
		p.status = code
	}
}
