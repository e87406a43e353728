package auth

import (
	"context"
	"net/http"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

type keyCheck struct {
	at  time.Time
	err *realtime.Error
}

// AuthenticateSocket authenticates a WebSocket upgrade exactly like the REST routes,
// plus the hapa.auth.<key> subprotocol of browsers, and requires the code_generation
// or code_completion scope.
func (a *Authenticator) AuthenticateSocket(r *http.Request) (realtime.Caller, *realtime.Error) {
	if _, _, present := Credential(r); !present {
		if key := SubprotocolKey(r); key != "" {
			r = r.Clone(r.Context())
			r.Header.Set("X-API-Key", key)
		}
	}
	c, err := a.Authenticate(r)
	if err != nil {
		return realtime.Caller{}, err
	}
	if MissingScope(c.Scopes, []string{store.ScopeCodeGeneration}) != "" && MissingScope(c.Scopes, []string{store.ScopeCodeCompletion}) != "" {
		return realtime.Caller{}, realtime.NewError(realtime.CodeForbidden, "Permission denied: the 'code_generation' or 'code_completion' scope is required")
	}
	return c, nil
}

// Revalidate re-checks a live socket's key: revoked → E4007, expired → E4006. It reads
// the key's row at most once per Config.RevalidateTTL (revocations also arrive at once
// through the hub's CloseKey). JWT callers are not re-checked (their tokens are
// short-lived). A database failure is E5003 and is not remembered.
func (a *Authenticator) Revalidate(ctx context.Context, c realtime.Caller) *realtime.Error {
	if c.KeyID == 0 {
		return nil
	}
	now := a.now()
	a.mu.Lock()
	if kc, ok := a.seen[c.KeyID]; ok && now.Sub(kc.at) < a.cfg.RevalidateTTL {
		a.mu.Unlock()
		return kc.err
	}
	a.mu.Unlock()
	k, err := a.db.APIKeys().ByID(ctx, c.KeyID)
	var e *realtime.Error
	switch {
	case err != nil:
		return realtime.Wrap(realtime.CodeDatabaseError, err)
	case k.Status(now) == store.KeyRevoked:
		e = realtime.NewError(realtime.CodeKeyRevoked, "")
	case k.Status(now) == store.KeyExpired:
		e = realtime.NewError(realtime.CodeKeyExpired, "")
	}
	a.mu.Lock()
	for id, kc := range a.seen { // keep the map bounded by live keys
		if now.Sub(kc.at) >= a.cfg.RevalidateTTL {
			delete(a.seen, id)
		}
	}
	a.seen[c.KeyID] = keyCheck{at: now, err: e}
	a.mu.Unlock()
	return e
}
