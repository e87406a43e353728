package admin

import (
	"sync"
	"time"
)

// loginLimiter counts failed logins per key (an address, an account, an account from
// one address) in a sliding window. It lives in the Handler, so every replica limits
// on its own; that bounds guessing to attempts × replicas per window, which is still
// far too slow for Argon2id-protected passwords of any strength. How the counts are
// used is login.go's loginGate.
type loginLimiter struct {
	max    int
	window time.Duration

	mu       sync.Mutex
	failures map[string][]time.Time
}

func newLoginLimiter(max int, window time.Duration) *loginLimiter {
	return &loginLimiter{max: max, window: window, failures: map[string][]time.Time{}}
}

// allowed reports whether every key is still under the limit at now.
func (l *loginLimiter) allowed(now time.Time, keys ...string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		if len(l.pruneLocked(k, now)) >= l.max {
			return false
		}
	}
	return true
}

// fail records one failed attempt for every key.
func (l *loginLimiter) fail(now time.Time, keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, k := range keys {
		l.failures[k] = append(l.pruneLocked(k, now), now)
	}
	if len(l.failures) > 10_000 { // bound memory under a spray of addresses
		for k := range l.failures {
			if len(l.pruneLocked(k, now)) == 0 {
				delete(l.failures, k)
			}
		}
		for k := range l.failures { // still full: forget arbitrary keys
			if len(l.failures) <= 10_000 {
				break
			}
			delete(l.failures, k)
		}
	}
}

// count returns how many failures key has in the window at now.
func (l *loginLimiter) count(now time.Time, key string) int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return len(l.pruneLocked(key, now))
}

// reset forgets the failures of key (after a successful login of that account).
func (l *loginLimiter) reset(key string) {
	l.mu.Lock()
	delete(l.failures, key)
	l.mu.Unlock()
}

func (l *loginLimiter) pruneLocked(k string, now time.Time) []time.Time {
	ts := l.failures[k]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= l.window {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.failures, k)
		return nil
	}
	l.failures[k] = ts
	return ts
}
