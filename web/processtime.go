package web

import (
	"net/http"
	"strconv"
	"time"
)

// processTime sets X-Process-Time (seconds, as the original) when the header goes out:
// the full handling time for ordinary responses, the time to first byte for streams.
func processTime(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		tw := newTrackingWriter(w)
		tw.onHeader = func(h http.Header, _ int) {
			h.Set("X-Process-Time", strconv.FormatFloat(time.Since(start).Seconds(), 'f', 6, 64))
		}
		next.ServeHTTP(tw, r)
		if !tw.wrote {
			// The handler wrote nothing: send the implicit 200 here, so the hook runs.
			tw.WriteHeader(http.StatusOK)
		}
	})
}
