package auth

import (
	"sync"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// denylistMax bounds the denylist; when full, the entries closest to expiry go first.
const denylistMax = 100_000

// denylist is this replica's view of the logged-out token ids (jti) and login session
// ids (sid), each until the token it names expires. The revoked_tokens table is the
// record all replicas share: it is loaded at start, re-read every
// REVOCATION_CHECK_INTERVAL (watch.go), and a logout on another replica arrives at
// once through the events bus when Redis is configured. Checking a token is a map
// lookup; the database is never read per request.
type denylist struct {
	mu      sync.Mutex
	ids     map[string]time.Time
	users   map[int64]userDenial // disabled or deleted users (userdeny.go)
	now     func() time.Time
	sweepAt int // purge expired entries when the map reaches this size
}

// userDenial refuses a user's tokens issued before at, until exp.
type userDenial struct{ at, exp time.Time }

func newDenylist(now func() time.Time) *denylist {
	return &denylist{ids: make(map[string]time.Time), users: make(map[int64]userDenial), now: now, sweepAt: 1024}
}

// addUser refuses the user's tokens issued before at, until exp; the latest instant
// and expiry win.
func (d *denylist) addUser(userID int64, at, exp time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	if !exp.After(now) {
		return
	}
	for id, u := range d.users { // few entries: one per disabled account
		if !u.exp.After(now) {
			delete(d.users, id)
		}
	}
	cur := d.users[userID]
	if at.After(cur.at) {
		cur.at = at
	}
	if exp.After(cur.exp) {
		cur.exp = exp
	}
	d.users[userID] = cur
}

// userDenied reports whether a token of userID issued at iat is refused: one issued
// at or before the denial. A JWT's iat has whole seconds, rounded down, so every token
// issued before the denial is refused, and a token of the same second too.
func (d *denylist) userDenied(userID int64, iat *jwt.NumericDate) bool {
	d.mu.Lock()
	u, ok := d.users[userID]
	d.mu.Unlock()
	if !ok || !u.exp.After(d.now()) {
		return false
	}
	return iat == nil || !iat.Time.After(u.at)
}

// add denies id until exp (a later expiry of the same id wins).
func (d *denylist) add(id string, exp time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	if !exp.After(now) {
		return
	}
	if len(d.ids) >= d.sweepAt {
		for k, e := range d.ids {
			if !e.After(now) {
				delete(d.ids, k)
			}
		}
		d.sweepAt = max(2*len(d.ids), 1024)
	}
	if _, ok := d.ids[id]; !ok && len(d.ids) >= denylistMax {
		var oldest string
		var oldestExp time.Time
		for k, e := range d.ids {
			if oldest == "" || e.Before(oldestExp) {
				oldest, oldestExp = k, e
			}
		}
		delete(d.ids, oldest)
	}
	if cur, ok := d.ids[id]; !ok || exp.After(cur) {
		d.ids[id] = exp
	}
}

func (d *denylist) has(id string) bool {
	if id == "" {
		return false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	exp, ok := d.ids[id]
	return ok && exp.After(d.now())
}
