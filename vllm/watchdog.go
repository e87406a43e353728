package vllm

import (
	"sync"
	"sync/atomic"
	"time"
)

// watchdog enforces the connect, first-token and idle limits of one stream with one
// timer. When it fires it cancels the request's context, which makes the transport close
// the connection: vLLM aborts generation only when the connection closes.
type watchdog struct {
	cancel func()
	idle   time.Duration // limit between events once the first arrived
	mu     sync.Mutex
	timer  *time.Timer
	phase  string        // limit being enforced now
	limit  time.Duration // its duration
	fired  atomic.Pointer[firedLimit]
}

type firedLimit struct {
	phase string
	limit time.Duration
}

func newWatchdog(cancel func(), idle time.Duration) *watchdog {
	return &watchdog{cancel: cancel, idle: idle}
}

// arm (re)starts the timer for phase; d <= 0 disables it.
func (w *watchdog) arm(phase string, d time.Duration) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.phase, w.limit = phase, d
	if d <= 0 {
		if w.timer != nil {
			w.timer.Stop()
		}
		return
	}
	if w.timer == nil {
		w.timer = time.AfterFunc(d, w.fire)
		return
	}
	w.timer.Reset(d)
}

// kick restarts the timer with the current limit (a token arrived).
func (w *watchdog) kick() {
	w.mu.Lock()
	if w.timer != nil && w.limit > 0 {
		w.timer.Reset(w.limit)
	}
	w.mu.Unlock()
}

func (w *watchdog) stop() {
	w.mu.Lock()
	if w.timer != nil {
		w.timer.Stop()
	}
	w.mu.Unlock()
}

func (w *watchdog) fire() {
	w.mu.Lock()
	f := &firedLimit{phase: w.phase, limit: w.limit}
	w.mu.Unlock()
	w.fired.CompareAndSwap(nil, f)
	w.cancel()
}

// expired returns the error for the limit that fired, or nil.
func (w *watchdog) expired(replica string) error {
	f := w.fired.Load()
	if f == nil {
		return nil
	}
	return timeoutError(replica, f.phase, f.limit)
}
