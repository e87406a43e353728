package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"
	"sync"
	"time"

	"github.com/hapa-project/hapa/store"
)

// Keys checks presented API keys. Lookups are cached by hash for a short TTL
// (unknown keys too, so guessing does not reach the database), and uses are
// remembered in memory and written by Flush as one batched UPDATE — never a
// write per request.
type Keys struct {
	keys *store.APIKeys
	ttl  time.Duration
	now  func() time.Time

	// MaxEntries bounds the cache (default 10,000); set before use.
	MaxEntries int
	// FlushInterval is Run's period between Flushes (default 30s).
	FlushInterval time.Duration
	// OnRevoke, when set, is called after Revoke or Rotate revoked a key, so
	// cmd/hapa can tell other replicas (Redis pub/sub) to Invalidate it.
	OnRevoke func(keyID int64)
	// OnFlushError, when set, receives Run's Flush errors (they are retried).
	OnFlushError func(error)

	mu       sync.Mutex
	cache    map[string]keyEntry // key hash → lookup result
	lastUsed map[int64]time.Time
}

type keyEntry struct {
	key     store.APIKey
	found   bool
	fetched time.Time
}

// NewKeys returns a key cache over the api_keys table; ttl ≤ 0 means 10s and a
// nil now means time.Now.
func NewKeys(keys *store.APIKeys, ttl time.Duration, now func() time.Time) *Keys {
	if ttl <= 0 {
		ttl = 10 * time.Second
	}
	if now == nil {
		now = time.Now
	}
	return &Keys{keys: keys, ttl: ttl, now: now, MaxEntries: 10_000, FlushInterval: 30 * time.Second,
		cache: map[string]keyEntry{}, lastUsed: map[int64]time.Time{}}
}

// Lookup returns the active key whose plaintext was presented, or
// ErrKeyUnknown, ErrKeyExpired or ErrKeyRevoked (or a database error).
func (a *Keys) Lookup(ctx context.Context, plaintext string) (store.APIKey, error) {
	if !strings.HasPrefix(plaintext, store.KeyPrefix) || len(plaintext) > 256 {
		return store.APIKey{}, ErrKeyUnknown
	}
	hash := store.HashKey(plaintext)
	now := a.now()
	a.mu.Lock()
	e, ok := a.cache[hash]
	a.mu.Unlock()
	if !ok || now.Sub(e.fetched) >= a.ttl {
		k, err := a.keys.ByHash(ctx, hash)
		switch {
		case errors.Is(err, store.ErrNotFound):
			e = keyEntry{fetched: now}
		case err != nil:
			return store.APIKey{}, err
		default:
			e = keyEntry{key: k, found: true, fetched: now}
		}
		a.store(hash, e)
	}
	// The lookup was by hash already; the constant-time compare guards against
	// a future index or cache that matches on less than the full hash.
	if !e.found || subtle.ConstantTimeCompare([]byte(e.key.KeyHash), []byte(hash)) != 1 {
		return store.APIKey{}, ErrKeyUnknown
	}
	switch e.key.Status(now) {
	case store.KeyRevoked:
		return store.APIKey{}, ErrKeyRevoked
	case store.KeyExpired:
		return store.APIKey{}, ErrKeyExpired
	}
	a.mu.Lock()
	a.lastUsed[e.key.ID] = now
	a.mu.Unlock()
	k := e.key
	k.LastUsedAt = &now
	return k, nil
}

func (a *Keys) store(hash string, e keyEntry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.cache[hash]; !ok && len(a.cache) >= a.MaxEntries {
		for h, old := range a.cache { // drop expired entries first
			if e.fetched.Sub(old.fetched) >= a.ttl {
				delete(a.cache, h)
			}
		}
		for h := range a.cache { // still full: drop arbitrary entries
			if len(a.cache) < a.MaxEntries {
				break
			}
			delete(a.cache, h)
		}
	}
	a.cache[hash] = e
}

// InvalidateHash forgets the cached lookup of one key hash.
func (a *Keys) InvalidateHash(hash string) {
	a.mu.Lock()
	delete(a.cache, hash)
	a.mu.Unlock()
}

// Invalidate forgets the cached lookup of key id, so its revocation takes
// effect on the next request. Other replicas call it on a pub/sub event.
func (a *Keys) Invalidate(keyID int64) {
	a.mu.Lock()
	defer a.mu.Unlock()
	for h, e := range a.cache {
		if e.found && e.key.ID == keyID {
			delete(a.cache, h)
		}
	}
}

// Revoke revokes key id in the database, invalidates it locally and calls
// OnRevoke.
func (a *Keys) Revoke(ctx context.Context, id int64) error {
	if err := a.keys.Revoke(ctx, id); err != nil {
		return err
	}
	a.revoked(id)
	return nil
}

// Rotate is APIKeys.Rotate plus local invalidation and OnRevoke of the old key.
func (a *Keys) Rotate(ctx context.Context, id int64) (string, store.APIKey, error) {
	plain, k, err := a.keys.Rotate(ctx, id)
	if err == nil {
		a.revoked(id)
	}
	return plain, k, err
}

func (a *Keys) revoked(id int64) {
	a.Invalidate(id)
	if a.OnRevoke != nil {
		a.OnRevoke(id)
	}
}

// Flush writes the remembered last-use times in one batched UPDATE. On error
// they are kept for the next Flush.
func (a *Keys) Flush(ctx context.Context) error {
	a.mu.Lock()
	used := a.lastUsed
	a.lastUsed = map[int64]time.Time{}
	a.mu.Unlock()
	if len(used) == 0 {
		return nil
	}
	err := a.keys.TouchLastUsed(ctx, used)
	if err != nil {
		a.mu.Lock()
		for id, t := range used {
			if cur, ok := a.lastUsed[id]; !ok || t.After(cur) {
				a.lastUsed[id] = t
			}
		}
		a.mu.Unlock()
	}
	return err
}

// Run flushes every FlushInterval until ctx is done, then flushes once more
// (with a 5s deadline) and returns nil. Flush errors are retried next tick.
func (a *Keys) Run(ctx context.Context) error {
	t := time.NewTicker(a.FlushInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			fctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
			defer cancel()
			a.report(a.Flush(fctx))
			return nil
		case <-t.C:
			a.report(a.Flush(ctx))
		}
	}
}

func (a *Keys) report(err error) {
	if err != nil && a.OnFlushError != nil {
		a.OnFlushError(err)
	}
}
