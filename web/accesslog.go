package web

import (
	"log/slog"
	"net/http"
	"time"
)

// accessLog writes one structured line per request after it finishes: method, route
// pattern (not the raw path, which may carry ids), status, bytes, duration, request id,
// and the key and user ids when authenticated. Keys, tokens, bodies and prompts are
// never logged. 5xx are logged at Error, 4xx at Warn, the rest at Info.
func accessLog(log *slog.Logger) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			start := time.Now()
			tw := newTrackingWriter(w)
			next.ServeHTTP(tw, r)
			st := stateFrom(r.Context())
			status := tw.Status()
			if status == 0 {
				status = http.StatusOK // handler returned without writing
			}
			level := slog.LevelInfo
			switch {
			case status >= 500:
				level = slog.LevelError
			case status >= 400:
				level = slog.LevelWarn
			}
			attrs := []slog.Attr{
				slog.String("method", r.Method),
				slog.String("route", st.pattern),
				slog.Int("status", status),
				slog.Int64("bytes", tw.bytes),
				slog.Duration("duration", time.Since(start)),
				slog.String("request_id", st.requestID),
			}
			if c := st.caller; c != nil {
				if c.KeyID != 0 {
					attrs = append(attrs, slog.Int64("key_id", c.KeyID))
				}
				if c.UserID != 0 {
					attrs = append(attrs, slog.Int64("user_id", c.UserID))
				}
			}
			log.LogAttrs(r.Context(), level, "http request", attrs...)
		})
	}
}
