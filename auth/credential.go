package auth

import (
	"net/http"
	"strings"

	"github.com/hapa-project/hapa/store"
)

// SubprotocolPrefix starts the browser's credential subprotocol "hapa.auth.<key>"; it
// is read for authentication and never selected or echoed by the socket.
const SubprotocolPrefix = "hapa.auth."

// Credential extracts the caller's credential: X-API-Key wins over Authorization, as in
// the original backend; a bearer that starts with "hapa_" is an API key, any other
// bearer a JWT. present is true when a credential header was sent at all; value is ""
// when it was unusable (a malformed Authorization header: E4003).
func Credential(r *http.Request) (value string, isJWT, present bool) {
	if k := strings.TrimSpace(r.Header.Get("X-API-Key")); k != "" {
		return k, false, true
	}
	auth := strings.TrimSpace(r.Header.Get("Authorization"))
	if auth == "" {
		return "", false, false
	}
	scheme, tok, ok := strings.Cut(auth, " ")
	tok = strings.TrimSpace(tok)
	if !ok || !strings.EqualFold(scheme, "Bearer") || tok == "" {
		return "", false, true
	}
	return tok, !strings.HasPrefix(tok, store.KeyPrefix), true
}

// BearerToken returns the JWT of an Authorization: Bearer header, or "" when the header
// is absent, malformed or carries an API key.
func BearerToken(r *http.Request) string {
	scheme, tok, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	tok = strings.TrimSpace(tok)
	if !strings.EqualFold(scheme, "Bearer") || tok == "" || strings.HasPrefix(tok, store.KeyPrefix) {
		return ""
	}
	return tok
}

// SubprotocolKey returns the API key a browser offered as the subprotocol
// "hapa.auth.<key>", or "".
func SubprotocolKey(r *http.Request) string {
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if k, ok := strings.CutPrefix(strings.TrimSpace(p), SubprotocolPrefix); ok {
				return k
			}
		}
	}
	return ""
}
