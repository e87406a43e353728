package web

import (
	"crypto/rand"
	"encoding/hex"
	"net/http"
)

// headerRequestID carries the request id in and out.
const headerRequestID = "X-Request-ID"

// requestID takes the client's X-Request-ID when it is a sane token (1–128 characters of
// [A-Za-z0-9._:-]) and otherwise generates one; the id is echoed in the response header,
// put in the request state, and appears in logs and error bodies. It also creates the
// request state, so it must be the outermost middleware.
func requestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(headerRequestID)
		if !validRequestID(id) {
			id = newRequestID()
		}
		w.Header().Set(headerRequestID, id)
		st := &requestState{requestID: id}
		next.ServeHTTP(w, r.WithContext(withState(r.Context(), st)))
	})
}

func validRequestID(id string) bool {
	if len(id) == 0 || len(id) > 128 {
		return false
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		switch {
		case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9',
			c == '.', c == '_', c == ':', c == '-':
		default:
			return false
		}
	}
	return true
}

// newRequestID returns "req_" and 16 random hex characters.
func newRequestID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return "req_" + hex.EncodeToString(b[:])
}
