package auth

import (
	"context"
	"crypto/subtle"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
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
	// DB, when set, is the database's breaker: while it is open lookups do not wait on
	// the database, and a failed lookup opens it.
	DB Breaker
	// StaleTTL is how long an entry may answer for a key while the database does not
	// (default 15m): the last known good answer.
	StaleTTL time.Duration

	mu       sync.Mutex
	cache    map[string]keyEntry // key hash → lookup result
	lastUsed map[int64]time.Time
	stale    atomic.Int64
}

// Breaker is the view of a dependency's breaker Keys needs; *store.Breaker
// implements it.
type Breaker interface {
	Allow() bool
	Trip(err error)
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
		StaleTTL: 15 * time.Minute, cache: map[string]keyEntry{}, lastUsed: map[int64]time.Time{}}
}

// Lookup returns the active key whose plaintext was presented, or
// ErrKeyUnknown, ErrKeyExpired or ErrKeyRevoked (or a database error).
//
// While the database does not answer — its breaker is open, or this lookup failed —
// a key looked up within StaleTTL is answered from its last known good entry (docs/
// operations.md, "Failure modes"): revocations still reach it through Revoked (the
// events bus), and a key never seen gets the database error (E5003) at once.
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
		fresh, err := a.fetch(ctx, hash, now)
		switch {
		case err == nil:
			e = fresh
			a.store(hash, e)
		case ok && now.Sub(e.fetched) < a.StaleTTL:
			a.stale.Add(1) // the last known good answer
		default:
			return store.APIKey{}, err
		}
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

// fetch reads one key from the database, unless its breaker says it is away.
func (a *Keys) fetch(ctx context.Context, hash string, now time.Time) (keyEntry, error) {
	if a.DB != nil && !a.DB.Allow() {
		return keyEntry{}, errDBUnavailable
	}
	qctx, cancel := context.WithTimeout(ctx, dbLookupTimeout)
	defer cancel()
	k, err := a.keys.ByHash(qctx, hash)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return keyEntry{fetched: now}, nil
	case err != nil:
		if a.DB != nil && ctx.Err() == nil { // not the caller leaving: the database failed
			a.DB.Trip(err)
		}
		return keyEntry{}, err
	}
	return keyEntry{key: k, found: true, fetched: now}, nil
}

// dbLookupTimeout bounds a key lookup in the database: past it the caller is answered
// from the last known good entry, or with E5003.
const dbLookupTimeout = 2 * time.Second

// errDBUnavailable is a lookup not tried because the database's breaker is open.
var errDBUnavailable = errors.New("auth: database unavailable")

// Revoked marks key id revoked in the cache (the events bus told this replica), so that
// it is refused at once — also while the database is away.
func (a *Keys) Revoked(keyID int64) {
	now := a.now()
	a.mu.Lock()
	defer a.mu.Unlock()
	for h, e := range a.cache {
		if e.found && e.key.ID == keyID && e.key.RevokedAt == nil {
			e.key.RevokedAt = &now
			a.cache[h] = e
		}
	}
}

// StaleAnswers counts lookups answered from a last known good entry.
func (a *Keys) StaleAnswers() int64 { return a.stale.Load() }

func (a *Keys) store(hash string, e keyEntry) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if _, ok := a.cache[hash]; !ok && len(a.cache) >= a.MaxEntries {
		for h, old := range a.cache { // drop entries too old even to answer in an outage first
			if e.fetched.Sub(old.fetched) >= max(a.ttl, a.StaleTTL) {
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
