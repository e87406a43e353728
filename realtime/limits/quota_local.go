package limits

import (
	"sync"
	"time"
)

// counter is one local window's usage.
type counter struct {
	n   int64
	end time.Time
}

// localCounters holds the in-memory windows (no Redis, or while it fails); expired
// ones are dropped on write.
type localCounters struct {
	mu      sync.Mutex
	m       map[string]counter
	sweepAt int // sweep expired windows when the map reaches this size
}

func (l *localCounters) add(key string, n int64, end, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.addLocked(key, n, end, now)
}

func (l *localCounters) addLocked(key string, n int64, end, now time.Time) {
	if len(l.m) >= l.sweepAt {
		for k, c := range l.m {
			if !now.Before(c.end) {
				delete(l.m, k)
			}
		}
		l.sweepAt = 2*len(l.m) + 1024
	}
	c := l.m[key]
	c.n += n
	c.end = end
	l.m[key] = c
}

// addIfPresent adds n to a window that is still counted (a settlement).
func (l *localCounters) addIfPresent(key string, n int64, now time.Time) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if c, ok := l.m[key]; ok && now.Before(c.end) {
		c.n += n
		l.m[key] = c
	}
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
func (l *localCounters) reserve(ws []window, need, least int64, now time.Time) (granted int64, blocked int, used int64) {
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
		l.addLocked(w.key, granted, w.end, now)
	}
	return granted, 0, 0
}
