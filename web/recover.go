package web

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"runtime/debug"

	"github.com/hapa-project/hapa/realtime"
)

// recoverPanics turns a handler panic into a logged stack and a 500 E5004 error body,
// unless the handler had already started its response (then the connection is left to
// end; writing a second header would corrupt it). http.ErrAbortHandler is re-raised so
// net/http aborts the connection silently as documented.
func (s *Server) recoverPanics(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		tw := newTrackingWriter(w)
		defer func() {
			v := recover()
			if v == nil {
				return
			}
			if err, ok := v.(error); ok && errors.Is(err, http.ErrAbortHandler) {
				panic(v)
			}
			s.log.ErrorContext(r.Context(), "panic in handler",
				slog.String("request_id", requestIDFrom(r.Context())),
				slog.String("route", stateFrom(r.Context()).pattern),
				slog.Any("panic", v),
				slog.String("stack", string(debug.Stack())))
			if tw.wrote {
				return
			}
			s.writeError(tw, r, realtime.Wrap(realtime.CodeInternal, fmt.Errorf("web: panic: %v", v)))
		}()
		next.ServeHTTP(tw, r)
	})
}
