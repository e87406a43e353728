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
//
// The values are shared slices assigned to canonical keys (what Header.Set would store,
// without a new one-element slice per header per request; a handler's Set or Add
// replaces or copies them, and nothing writes into a header's slice in place).
func securityHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h["X-Content-Type-Options"] = hdrNosniff
		h["X-Frame-Options"] = hdrDeny
		h["Referrer-Policy"] = hdrNoReferrer
		if r.TLS != nil {
			h["Strict-Transport-Security"] = hdrHSTS
		}
		if noStore(r.URL.Path) {
			h["Cache-Control"] = hdrNoStore
		}
		tw := newTrackingWriter(w)
		tw.onHeader = func(h http.Header, _ int) {
			if len(h["Content-Security-Policy"]) == 0 {
				h["Content-Security-Policy"] = hdrAPICSP
			}
		}
		next.ServeHTTP(tw, r)
		if !tw.wrote {
			// The handler wrote nothing: send the implicit 200 here, so the hook runs.
			tw.WriteHeader(http.StatusOK)
		}
	})
}

var (
	hdrNosniff    = []string{"nosniff"}
	hdrDeny       = []string{"DENY"}
	hdrNoReferrer = []string{"no-referrer"}
	hdrHSTS       = []string{"max-age=63072000; includeSubDomains"}
	hdrNoStore    = []string{"no-store"}
	hdrAPICSP     = []string{apiCSP}
)

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
