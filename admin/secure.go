package admin

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"

	"github.com/a-h/templ"
)

// secure sets the security headers of every console response, including a
// Content-Security-Policy with a fresh nonce that templates read with templ.GetNonce.
// Scripts and styles load only from 'self' or carry the nonce; there are no inline
// event handlers or style attributes, and htmx is configured (meta htmx-config) not to
// inject its indicator style or eval anything.
func (h *Handler) secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		nonce := newNonce()
		hd := w.Header()
		hd.Set("Content-Security-Policy", cspFor(nonce))
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		hd.Add("Vary", "Cookie")
		next.ServeHTTP(w, r.WithContext(templ.WithNonce(r.Context(), nonce)))
	})
}

// cspFor is the policy of one response.
func cspFor(nonce string) string {
	n := "'nonce-" + nonce + "'"
	return "default-src 'none'; script-src " + n + " 'self'; style-src 'self' " + n +
		"; img-src 'self' data:; connect-src 'self' ws: wss:; form-action 'self'" +
		"; frame-ancestors 'none'; base-uri 'none'"
}

// newNonce returns 128 random bits, base64-encoded.
func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
