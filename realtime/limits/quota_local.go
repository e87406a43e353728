package limits

import (
	"sync"
	"time"
)

// counter is one window's usage as this replica knows it.
type counter struct {
	n       int64 // usage: Redis's last answer plus what was counted here since (or all of it, without Redis)
	pending int64 // counted here while Redis was unavailable, not yet added to Redis
	end     time.Time
}

// localCounters holds the in-memory windows: the counters themselves without Redis; with
// Redis, a mirror of Redis's last answers that the replica counts on while Redis is
// unavailable, and the increments Redis still has to receive (pending). Expired windows
// are dropped on write.
type localCounters struct {
	mu      sync.Mutex
	m       map[string]counter
	sweepAt int // sweep expired windows when the map reaches this size
}

// add counts n tokens (negative: a refund) in a window that has not ended; pending
// marks them as owed to Redis.
func (l *localCounters) add(key string, n int64, end, now time.Time, pending bool) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.addLocked(key, n, end, now, pending)
}

func (l *localCounters) addLocked(key string, n int64, end, now time.Time, pending bool) {
	if !now.Before(end) {
		return
	}
	l.sweepLocked(now)
	c := l.m[key]
	c.n += n
	if pending {
		c.pending += n
	}
	c.end = end
	l.m[key] = c
}

// mirror records Redis's usage of a window: what the replica counts from while Redis
// is unavailable. Increments still owed to Redis stay on top of it.
func (l *localCounters) mirror(key string, used int64, end, now time.Time) {
	if !now.Before(end) {
		return
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sweepLocked(now)
	c := l.m[key]
	c.n, c.end = used+c.pending, end
	l.m[key] = c
}

// sweepLocked drops the windows that have ended, when the map has doubled since the
// last sweep.
func (l *localCounters) sweepLocked(now time.Time) {
	if len(l.m) < l.sweepAt {
		return
	}
	for k, c := range l.m {
		if !now.Before(c.end) {
			delete(l.m, k)
		}
	}
	l.sweepAt = 2*len(l.m) + 1024
}

func (l *localCounters) get(key string, now time.Time) int64 {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.getLocked(key, now)
}

func (l *localCounters) getLocked(key string, now time.Time) int64 {
	if c, ok := l.m[key]; ok && now.Before(c.end) {
		return c.n
	}
	return 0
}

// reserve is Quotas.reserve in memory: atomic across the windows under one lock.
func (l *localCounters) reserve(ws []window, need, least int64, now time.Time, pending bool) (granted int64, blocked int, used int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	granted = need
	for i, w := range ws {
		u := l.getLocked(w.key, now)
		if left := w.limit - u; left < granted {
			granted, blocked, used = left, i, u
		}
	}
	if granted < least {
		return 0, blocked, used
	}
	for _, w := range ws {
		l.addLocked(w.key, granted, w.end, now, pending)
	}
	return granted, 0, 0
}

// owed is one window's increments not yet in Redis.
type owed struct {
	key string
	n   int64
	end time.Time
}

// takePending hands over what Redis is owed in windows that have not ended, and
// forgets it (givePending returns it when Redis did not take it).
func (l *localCounters) takePending(now time.Time) []owed {
	l.mu.Lock()
	defer l.mu.Unlock()
	var out []owed
	for k, c := range l.m {
		if c.pending == 0 {
			continue
		}
		if now.Before(c.end) {
			out = append(out, owed{k, c.pending, c.end})
		}
		c.pending = 0
		l.m[k] = c
	}
	return out
}

// givePending puts back increments Redis did not take.
func (l *localCounters) givePending(os []owed) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, o := range os {
		c := l.m[o.key]
		c.pending += o.n
		if c.end.IsZero() {
			c.end, c.n = o.end, c.n+o.n
		}
		l.m[o.key] = c
	}
}
