package auth

import (
	"context"
	"log/slog"
	"time"

	"github.com/hapa-project/hapa/realtime"
)

// Revocations reach every replica two ways (docs/operations.md, "Running several
// replicas"): at once through the events bus when Redis is configured, and always
// through the database, which Watch re-reads every CheckInterval — so a replica that
// missed an event, runs without Redis, or was restarted still refuses what was revoked.

// watchOverlap re-reads a little before the previous check: the rows' times come from
// the clocks of the replicas that wrote them.
const watchOverlap = 5 * time.Second

// pruneEvery is how often Watch deletes expired revoked_tokens rows.
const pruneEvery = time.Hour

// Load reads the logged-out tokens from the database; cmd/hapa calls it before
// serving, so a restart forgets no logout.
func (a *Authenticator) Load(ctx context.Context) error {
	rows, err := a.db.RevokedTokens().Since(ctx, time.Time{})
	if err != nil {
		return err
	}
	for _, r := range rows {
		a.tokens.Deny(r.ID, r.ExpiresAt)
	}
	return nil
}

// Watch re-reads, every CheckInterval until ctx ends, the tokens logged out and the
// keys revoked or expired since the previous read. It applies them to this replica:
// tokens are denied, keys leave the cache, and ended(id, err) is called for each key
// (E4007 revoked, E4006 expired) so that cmd/hapa ends the key's open streams and
// sockets. A read that fails is logged and retried on the next tick.
func (a *Authenticator) Watch(ctx context.Context, log *slog.Logger, ended func(keyID int64, err *realtime.Error)) error {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	last, pruned := a.now(), a.now()
	t := time.NewTicker(a.cfg.CheckInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		now := a.now()
		if err := a.check(ctx, last.Add(-a.cfg.CheckInterval-watchOverlap), ended); err != nil {
			if ctx.Err() == nil {
				log.Warn("auth: revocation check failed; retrying", "err", err)
			}
			continue
		}
		last = now
		if now.Sub(pruned) >= pruneEvery {
			if _, err := a.db.RevokedTokens().DeleteExpired(ctx); err == nil {
				pruned = now
			}
		}
	}
}

// check applies what was revoked at or after since.
func (a *Authenticator) check(ctx context.Context, since time.Time, ended func(int64, *realtime.Error)) error {
	toks, err := a.db.RevokedTokens().Since(ctx, since)
	if err != nil {
		return err
	}
	for _, r := range toks {
		a.tokens.Deny(r.ID, r.ExpiresAt)
	}
	keys, err := a.db.APIKeys().EndedSince(ctx, since)
	if err != nil {
		return err
	}
	for _, k := range keys {
		a.keys.Invalidate(k.ID)
		a.forget(k.ID)
		if ended != nil {
			code := realtime.CodeKeyExpired
			if k.Revoked {
				code = realtime.CodeKeyRevoked
			}
			ended(k.ID, realtime.NewError(code, ""))
		}
	}
	return nil
}

// forget drops Revalidate's remembered answer for a key.
func (a *Authenticator) forget(keyID int64) {
	a.mu.Lock()
	delete(a.seen, keyID)
	a.mu.Unlock()
}
