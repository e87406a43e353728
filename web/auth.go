package web

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"

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

// jwtScopes are granted to a user signed in with a JWT (the extension's onboarding token).
var jwtScopes = []string{ScopeCodeGeneration, ScopeCodeCompletion, ScopeHistory}

// apiKeyPrefix marks a bearer credential as an API key rather than a JWT.
const apiKeyPrefix = store.KeyPrefix

// KeyAuthenticator resolves an API key; *store.Authenticator implements it. Errors are
// store.ErrKeyUnknown, store.ErrKeyExpired, store.ErrKeyRevoked, or anything else for a
// database failure.
type KeyAuthenticator interface {
	Authenticate(ctx context.Context, plaintext string) (store.APIKey, error)
}

// callerFrom returns the authenticated caller of the request (kept in the request
// state, so authentication copies no request); ok is false before authentication and
// on routes without it.
func callerFrom(ctx context.Context) (realtime.Caller, bool) {
	if c := stateFrom(ctx).caller; c != nil {
		return *c, true
	}
	return realtime.Caller{}, false
}

// credential extracts the caller's credential: X-API-Key wins over Authorization, as in
// the original; a bearer that starts with "hapa_" is an API key, any other bearer a JWT.
func credential(r *http.Request) (value string, isJWT, present bool) {
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
		return "", false, true // present but unusable → E4003
	}
	return tok, !strings.HasPrefix(tok, apiKeyPrefix), true
}

// authenticate resolves the request's credential to a caller.
func (s *Server) authenticate(r *http.Request) (realtime.Caller, string, error) {
	cred, isJWT, present := credential(r)
	if !present {
		return realtime.Caller{}, "", realtime.NewError(realtime.CodeInvalidKey,
			"API key required: send X-API-Key or Authorization: Bearer")
	}
	if cred == "" {
		return realtime.Caller{}, "", realtime.NewError(realtime.CodeInvalidKey, "Malformed Authorization header (want: Bearer <token>)")
	}
	if isJWT {
		c, err := s.tokens.parse(cred, tokenAccess)
		if err != nil {
			e := realtime.NewError(realtime.CodeInvalidKey, "Invalid or expired token")
			e.Detail, e.Err = err.Error(), err
			return realtime.Caller{}, "", e
		}
		return realtime.Caller{UserID: c.UserID, Scopes: slices.Clone(jwtScopes)}, c.Subject, nil
	}
	k, err := s.deps.Keys.Authenticate(r.Context(), cred)
	if err != nil {
		return realtime.Caller{}, "", keyError(err)
	}
	return callerFromKey(k), "", nil
}

// keyError maps the store's key sentinels to the catalogue.
func keyError(err error) error {
	switch {
	case errors.Is(err, store.ErrKeyUnknown):
		return realtime.NewError(realtime.CodeInvalidKey, "Invalid API key")
	case errors.Is(err, store.ErrKeyExpired):
		return realtime.NewError(realtime.CodeKeyExpired, "")
	case errors.Is(err, store.ErrKeyRevoked):
		return realtime.NewError(realtime.CodeKeyRevoked, "")
	default:
		return realtime.Wrap(realtime.CodeDatabaseError, err)
	}
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
		c, email, err := s.authenticate(r)
		if err != nil {
			fail(w, r, err)
			return
		}
		st := stateFrom(r.Context())
		st.caller, st.email = &c, email
		if missing := missingScope(c.Scopes, scopes); missing != "" {
			fail(w, r, realtime.NewError(realtime.CodeForbidden, "Permission denied: the '"+missing+"' scope is required"))
			return
		}
		h(w, r)
	})
}

// missingScope returns the first scope of want not granted by have, or "".
func missingScope(have, want []string) string {
	if slices.Contains(have, ScopeAdmin) {
		return ""
	}
	for _, w := range want {
		if !slices.Contains(have, w) {
			return w
		}
	}
	return ""
}

// authed wraps a handler func in requireAuth.
func (s *Server) authed(h http.HandlerFunc, scopes ...string) http.Handler {
	return s.requireAuth(scopes...)(h)
}
