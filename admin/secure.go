package admin

import (
	"crypto/rand"
	"encoding/base64"
	"net/http"
	"net/url"
	"strings"

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
		hd.Set("Content-Security-Policy", cspFor(nonce, h.socketOrigin(r)))
		hd.Set("X-Content-Type-Options", "nosniff")
		hd.Set("X-Frame-Options", "DENY")
		hd.Set("Referrer-Policy", "same-origin")
		hd.Set("Cross-Origin-Opener-Policy", "same-origin")
		hd.Set("Cache-Control", "no-store")
		hd.Add("Vary", "Cookie")
		next.ServeHTTP(w, r.WithContext(templ.WithNonce(r.Context(), nonce)))
	})
}

// cspFor is the policy of one response. connect-src names the one socket origin the
// playground uses (socketOrigin) rather than ws: and wss:, which would let a script
// injected into the console talk to any host.
func cspFor(nonce, socket string) string {
	n := "'nonce-" + nonce + "'"
	connect := "'self'"
	if socket != "" {
		connect += " " + socket
	}
	return "default-src 'none'; script-src " + n + " 'self'; style-src 'self' " + n +
		"; img-src 'self' data:; connect-src " + connect + "; form-action 'self'" +
		"; frame-ancestors 'none'; base-uri 'none'"
}

// socketOrigin is the origin of the playground's WebSocket: Config.RealtimeURL's, or
// ws(s):// and the page's own host; "" when the host is not a plain host[:port] (it
// is then left out of the header rather than written into it).
func (h *Handler) socketOrigin(r *http.Request) string {
	u, err := url.Parse(h.realtimeURL(r))
	if err != nil || (u.Scheme != "ws" && u.Scheme != "wss") || !plainHost(u.Host) {
		return ""
	}
	return u.Scheme + "://" + u.Host
}

// plainHost reports whether s is a host name or address with an optional port, with
// nothing a header could be broken with.
func plainHost(s string) bool {
	if s == "" || len(s) > 261 {
		return false
	}
	for _, c := range s {
		ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || strings.ContainsRune(".-:[]", c)
		if !ok {
			return false
		}
	}
	return true
}

// newNonce returns 128 random bits, base64-encoded.
func newNonce() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return base64.StdEncoding.EncodeToString(b)
}
