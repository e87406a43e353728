package web

import (
	"context"
	"net/http"

	"github.com/hapa-project/hapa/auth"
	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// Scopes a caller can hold (the store's names).
const (
	ScopeCodeGeneration = store.ScopeCodeGeneration
	ScopeCodeCompletion = store.ScopeCodeCompletion
	ScopeHistory        = store.ScopeHistory
	ScopeAdmin          = store.ScopeAdmin
)

// callerFrom returns the authenticated caller of the request (kept in the request
// state, so authentication copies no request); ok is false before authentication and
// on routes without it.
func callerFrom(ctx context.Context) (realtime.Caller, bool) {
	if c := stateFrom(ctx).caller; c != nil {
		return *c, true
	}
	return realtime.Caller{}, false
}

// requireAuth admits authenticated callers holding every one of scopes (a key with
// the admin scope holds them all) and puts the caller in the request state.
func (s *Server) requireAuth(scopes ...string) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler { return s.authedWith(s.writeError, next.ServeHTTP, scopes...) }
}

// authedWith is requireAuth answering refusals with fail, the error body that the
// route's clients read (writeError, writeSSEError, writeOpenAIError).
func (s *Server) authedWith(fail func(http.ResponseWriter, *http.Request, error), h http.HandlerFunc, scopes ...string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c, e := s.deps.Auth.Authenticate(r)
		if e != nil {
			fail(w, r, e)
			return
		}
		stateFrom(r.Context()).caller = &c
		if missing := auth.MissingScope(c.Scopes, scopes); missing != "" {
			fail(w, r, realtime.NewError(realtime.CodeForbidden, "Permission denied: the '"+missing+"' scope is required"))
			return
		}
		h(w, r)
	})
}

// authed wraps a handler func in requireAuth.
func (s *Server) authed(h http.HandlerFunc, scopes ...string) http.Handler {
	return s.requireAuth(scopes...)(h)
}
