package store

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/redis/go-redis/v9"
)

// ErrBreakerOpen is returned instead of calling a dependency whose breaker is open.
var ErrBreakerOpen = errors.New("store: dependency unavailable (breaker open)")

// BreakerConfig configures a Breaker. A zero field means the documented default.
type BreakerConfig struct {
	Timeout time.Duration // longest wait for one probe; default 250ms (HAPA's Redis operation timeout)
	Probe   time.Duration // interval between probes while open; default 1s
}

// Breaker keeps a failing network dependency off the request path
// (docs/operations.md, "Failure modes"). While it is closed (up) callers use the
// dependency and report connection failures with Fail; the first failure opens it, and
// from then on Allow answers false — one atomic load, no waiting — so callers use their
// local fallback at once. While it is open one background goroutine probes the
// dependency every Probe (a PING for Redis, bounded by Timeout) and closes the breaker
// at the first answer. An outage therefore costs each caller that was in flight when it
// began one timeout, and nothing after that.
//
// HAPA builds one Breaker per Redis client, shared by every user of that client: the
// tiered cache, the rate limiter, token quotas, socket leases and the cross-replica
// events. They share one server, one connection pool and one network path, so a
// failure seen by one is evidence for all: with a breaker each, a black-holed Redis
// would cost a cache hit two timeouts (the cache read and the limiter's check run side
// by side, each tripping its own breaker), there would be four probes instead of one,
// and one outage would show as four. Replies from the server (a script error, OOM) are
// not connection failures and open nothing, so one user's bad command cannot take the
// dependency away from the others.
//
// The zero value is not usable; a nil *Breaker allows everything and never opens.
type Breaker struct {
	timeout time.Duration
	probe   time.Duration
	ping    func(context.Context) error

	down atomic.Bool

	mu      sync.Mutex
	ready   chan struct{} // closed while up
	lastErr error         // the failure that opened it
	probing bool          // the probe goroutine runs
	stopped bool
	stop    chan struct{}
	wg      sync.WaitGroup

	nmu       sync.Mutex // serialises notifications
	watchers  []func(up bool, err error)
	reported  bool // the watchers were last told "down"
	reportErr error
}

// NewBreaker returns a closed breaker whose probe is ping.
func NewBreaker(ping func(context.Context) error, cfg BreakerConfig) *Breaker {
	if cfg.Timeout <= 0 {
		cfg.Timeout = 250 * time.Millisecond
	}
	if cfg.Probe <= 0 {
		cfg.Probe = time.Second
	}
	ready := make(chan struct{})
	close(ready)
	return &Breaker{timeout: cfg.Timeout, probe: cfg.Probe, ping: ping, ready: ready, stop: make(chan struct{})}
}

// NewRedisBreaker returns a closed breaker that probes rdb with PingRedis (a PING;
// on a Cluster, every master's cluster_state).
func NewRedisBreaker(rdb redis.UniversalClient, cfg BreakerConfig) *Breaker {
	return NewBreaker(func(ctx context.Context) error { return PingRedis(ctx, rdb) }, cfg)
}

// Allow reports whether callers may use the dependency (the breaker is closed).
func (b *Breaker) Allow() bool { return b == nil || !b.down.Load() }

// Timeout is the probe's timeout, which callers may use as their own.
func (b *Breaker) Timeout() time.Duration {
	if b == nil {
		return 250 * time.Millisecond
	}
	return b.timeout
}

// ProbeInterval is the time between two probes while the breaker is open.
func (b *Breaker) ProbeInterval() time.Duration {
	if b == nil {
		return 0
	}
	return b.probe
}

// Ready returns a channel that is closed while the breaker is closed (at once when it
// is, else when the dependency answers again).
func (b *Breaker) Ready() <-chan struct{} {
	if b == nil {
		c := make(chan struct{})
		close(c)
		return c
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.ready
}

// IsConnectionFailure reports whether err, from a call made under ctx, says that the
// dependency could not be reached, did not answer in time, or answered that it cannot
// serve now — Redis's CLUSTERDOWN, MASTERDOWN, LOADING, READONLY and TRYAGAIN, the
// replies of a Cluster or Sentinel setup in the middle of a failover
// (docs/operations.md, "Redis Sentinel and Cluster"). It is false for a Redis miss,
// any other reply of the server, and the caller's own context ending.
func IsConnectionFailure(ctx context.Context, err error) bool {
	if err == nil || errors.Is(err, redis.Nil) {
		return false
	}
	if ctx != nil && ctx.Err() != nil {
		return false // the caller left: no evidence against the dependency
	}
	if redis.IsClusterDownError(err) || redis.IsMasterDownError(err) || redis.IsLoadingError(err) ||
		redis.IsReadOnlyError(err) || redis.IsTryAgainError(err) {
		return true
	}
	var reply redis.Error
	return !errors.As(err, &reply)
}

// Fail reports err from a call made under ctx (the caller's context, not the
// operation's timeout) and opens the breaker when err is a connection failure
// (IsConnectionFailure). It reports whether it was one.
func (b *Breaker) Fail(ctx context.Context, err error) bool {
	if b == nil || !IsConnectionFailure(ctx, err) {
		return false
	}
	b.Trip(err)
	return true
}

// Trip opens the breaker (when it is closed) and starts the probe.
func (b *Breaker) Trip(err error) {
	if b == nil || !b.down.CompareAndSwap(false, true) {
		return
	}
	b.mu.Lock()
	b.ready = make(chan struct{})
	b.lastErr = err
	start := !b.probing && !b.stopped
	if start {
		b.probing = true
		b.wg.Add(1)
	}
	b.mu.Unlock()
	if start {
		go b.run()
	}
}

// Watch adds fn, called on every change (up false: opened, with the failure; up true:
// closed again), in order, from the probe goroutine; fn must not block for long. When
// the breaker has already been reported open, fn is called at once with that.
func (b *Breaker) Watch(fn func(up bool, err error)) {
	if b == nil {
		return
	}
	b.nmu.Lock()
	defer b.nmu.Unlock()
	b.watchers = append(b.watchers, fn)
	if b.reported {
		fn(false, b.reportErr)
	}
}

func (b *Breaker) notify(up bool, err error) {
	b.nmu.Lock()
	defer b.nmu.Unlock()
	b.reported, b.reportErr = !up, err
	for _, fn := range b.watchers {
		fn(up, err)
	}
}

// run reports the outage, probes until the dependency answers, reports that, and
// goes on with a new outage if the breaker opened again meanwhile.
func (b *Breaker) run() {
	defer b.wg.Done()
	for {
		b.mu.Lock()
		err := b.lastErr
		b.mu.Unlock()
		b.notify(false, err)
		if !b.probeUntilUp() {
			return
		}
		b.notify(true, nil)
		b.mu.Lock()
		if !b.down.Load() || b.stopped {
			b.probing = false
			b.mu.Unlock()
			return
		}
		b.mu.Unlock()
	}
}

// probeUntilUp pings every probe interval until the dependency answers (true) or the
// breaker is closed for good (false).
func (b *Breaker) probeUntilUp() bool {
	t := time.NewTimer(b.probe)
	defer t.Stop()
	for {
		select {
		case <-b.stop:
			b.mu.Lock()
			b.probing = false
			b.mu.Unlock()
			return false
		case <-t.C:
		}
		ctx, cancel := context.WithTimeout(context.Background(), b.timeout)
		err := b.ping(ctx)
		cancel()
		if err == nil {
			b.mu.Lock()
			b.down.Store(false)
			close(b.ready)
			b.mu.Unlock()
			return true
		}
		if errors.Is(err, redis.ErrClosed) { // the client was closed: nothing to wait for
			b.mu.Lock()
			b.probing = false
			b.mu.Unlock()
			return false
		}
		b.mu.Lock()
		b.lastErr = err
		b.mu.Unlock()
		t.Reset(b.probe)
	}
}

// Monitor probes the dependency every interval while the breaker is closed and trips
// it on a failure, until ctx ends: a dependency nobody happens to call still shows as
// down (the gauge, the incident) when it fails. While the breaker is open its own
// probe runs instead.
func (b *Breaker) Monitor(ctx context.Context, interval time.Duration) error {
	if b == nil {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
		if !b.Allow() {
			continue
		}
		pctx, cancel := context.WithTimeout(ctx, b.timeout)
		err := b.ping(pctx)
		cancel()
		if err != nil && ctx.Err() == nil {
			b.Trip(err)
		}
	}
}

// Close stops the probe (for shutdown); the breaker stays in the state it is in.
func (b *Breaker) Close() {
	if b == nil {
		return
	}
	b.mu.Lock()
	if !b.stopped {
		b.stopped = true
		close(b.stop)
	}
	b.mu.Unlock()
	b.wg.Wait()
}
