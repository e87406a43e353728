package web

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// authSubprotocol prefixes the API key a browser offers as a WebSocket subprotocol
// (browsers cannot set headers on a WebSocket); the hub never echoes it back.
const authSubprotocol = "hapa.auth."

// revalidateTTL bounds how often one key's state is read from the database by the
// periodic revalidation of its sockets (revocations also arrive at once through
// Hub.CloseKey).
const revalidateTTL = 10 * time.Second

// RealtimeAuth authenticates WebSocket upgrades exactly like the REST routes
// (X-API-Key, Authorization: Bearer key-or-JWT) plus the hapa.auth.<key> subprotocol,
// and re-checks live keys for the hub (revoked → E4007, expired → E4006).
func (s *Server) RealtimeAuth() realtime.Authenticator {
	return &realtimeAuth{s: s, seen: map[int64]keyCheck{}}
}

type realtimeAuth struct {
	s    *Server
	mu   sync.Mutex
	seen map[int64]keyCheck
}

type keyCheck struct {
	at  time.Time
	err *realtime.Error
}

// Authenticate implements realtime.Authenticator.
func (a *realtimeAuth) Authenticate(r *http.Request) (realtime.Caller, *realtime.Error) {
	if _, _, present := credential(r); !present {
		if key := subprotocolKey(r); key != "" {
			r = r.Clone(r.Context())
			r.Header.Set("X-API-Key", key)
		}
	}
	c, _, err := a.s.authenticate(r)
	if err != nil {
		return realtime.Caller{}, realtime.AsError(err)
	}
	if missingScope(c.Scopes, []string{ScopeCodeGeneration}) != "" && missingScope(c.Scopes, []string{ScopeCodeCompletion}) != "" {
		return realtime.Caller{}, realtime.NewError(realtime.CodeForbidden, "Permission denied: the 'code_generation' or 'code_completion' scope is required")
	}
	return c, nil
}

// Revalidate implements realtime.Revalidator: it reads the key's row at most once per
// revalidateTTL. JWT callers are not re-checked (their tokens are short-lived).
func (a *realtimeAuth) Revalidate(ctx context.Context, c realtime.Caller) *realtime.Error {
	if c.KeyID == 0 {
		return nil
	}
	now := a.s.now()
	a.mu.Lock()
	if kc, ok := a.seen[c.KeyID]; ok && now.Sub(kc.at) < revalidateTTL {
		a.mu.Unlock()
		return kc.err
	}
	a.mu.Unlock()
	k, err := a.s.deps.DB.APIKeys().ByID(ctx, c.KeyID)
	var e *realtime.Error
	switch {
	case err != nil:
		return realtime.Wrap(realtime.CodeDatabaseError, err) // not cached: a transient failure
	case k.Status(now) == store.KeyRevoked:
		e = realtime.NewError(realtime.CodeKeyRevoked, "")
	case k.Status(now) == store.KeyExpired:
		e = realtime.NewError(realtime.CodeKeyExpired, "")
	}
	a.mu.Lock()
	for id, kc := range a.seen { // keep the map bounded by live keys
		if now.Sub(kc.at) >= revalidateTTL {
			delete(a.seen, id)
		}
	}
	a.seen[c.KeyID] = keyCheck{at: now, err: e}
	a.mu.Unlock()
	return e
}

func subprotocolKey(r *http.Request) string {
	for _, v := range r.Header.Values("Sec-WebSocket-Protocol") {
		for _, p := range strings.Split(v, ",") {
			if p = strings.TrimSpace(p); strings.HasPrefix(p, authSubprotocol) {
				return strings.TrimPrefix(p, authSubprotocol)
			}
		}
	}
	return ""
}
