package auth

import (
	"sync"
	"time"
)

// denylistMax bounds the denylist; when full, the entries closest to expiry go first.
const denylistMax = 100_000

// denylist holds the ids (jti) of logged-out tokens until they expire. It is in memory
// and per replica: a token logged out on one replica stays valid on the others until
// its expiry (at most the access TTL, 30 minutes by default). Expired entries are
// purged on insert.
type denylist struct {
	mu  sync.Mutex
	ids map[string]time.Time
	now func() time.Time
}

func newDenylist(now func() time.Time) *denylist {
	return &denylist{ids: make(map[string]time.Time), now: now}
}

func (d *denylist) add(id string, exp time.Time) {
	d.mu.Lock()
	defer d.mu.Unlock()
	now := d.now()
	for k, e := range d.ids {
		if !e.After(now) {
			delete(d.ids, k)
		}
	}
	if len(d.ids) >= denylistMax {
		var oldest string
		var oldestExp time.Time
		for k, e := range d.ids {
			if oldest == "" || e.Before(oldestExp) {
				oldest, oldestExp = k, e
			}
		}
		delete(d.ids, oldest)
	}
	d.ids[id] = exp
}

func (d *denylist) has(id string) bool {
	d.mu.Lock()
	defer d.mu.Unlock()
	exp, ok := d.ids[id]
	return ok && exp.After(d.now())
}
