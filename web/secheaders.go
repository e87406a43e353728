package web

import (
	"net/http"
	"strings"
)

// apiCSP is the policy for API responses: JSON is never rendered, so nothing may load
// and nothing may frame it. Handlers that serve HTML (admin console, /docs) set their own
// Content-Security-Policy, which this middleware leaves alone.
const apiCSP = "default-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// securityHeaders sets nosniff, DENY framing and no-referrer on every response,
// Cache-Control: no-store on /api/* (a handler may override it, e.g. SSE's no-cache),
// the strict API CSP unless the handler set one, and HSTS on TLS connections.
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("X-Frame-Options", "DENY")
		h.Set("Referrer-Policy", "no-referrer")
		if r.TLS != nil {
			h.Set("Strict-Transport-Security", "max-age=63072000; includeSubDomains")
		}
		if noStore(r.URL.Path) {
			h.Set("Cache-Control", "no-store")
		}
		tw := newTrackingWriter(w)
		tw.onHeader = func(h http.Header, _ int) {
			if h.Get("Content-Security-Policy") == "" {
				h.Set("Content-Security-Policy", apiCSP)
			}
		}
		next.ServeHTTP(tw, r)
		if !tw.wrote {
			// The handler wrote nothing: send the implicit 200 here, so the hook runs.
			tw.WriteHeader(http.StatusOK)
		}
	})
}

// noStore reports whether responses under path may carry keys, tokens or personal data
// and so must never be cached: the API and the DB-module routes (tokens from /auth,
// settings, history), and the OpenAI-compatible routes.
func noStore(path string) bool {
	for _, p := range []string{"/api/", "/auth/", "/users/", "/settings/", "/history/", "/v1/"} {
		if strings.HasPrefix(path, p) {
			return true
		}
	}
	return false
}
