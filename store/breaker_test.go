package store

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// fakeDep is a dependency whose probe answers as told.
type fakeDep struct {
	up    atomic.Bool
	pings atomic.Int64
}

func (d *fakeDep) ping(context.Context) error {
	d.pings.Add(1)
	if d.up.Load() {
		return nil
	}
	return syscall.ECONNREFUSED
}

// changes records a breaker's notifications in order.
type changes struct {
	mu  sync.Mutex
	got []string
}

func (c *changes) watch(up bool, err error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if up {
		c.got = append(c.got, "up")
	} else {
		c.got = append(c.got, fmt.Sprintf("down(%v)", err))
	}
}

func (c *changes) String() string {
	c.mu.Lock()
	defer c.mu.Unlock()
	return fmt.Sprint(c.got)
}

func waitUntil(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func TestBreakerOpensOnConnectionFailuresOnly(t *testing.T) {
	dep := &fakeDep{}
	b := NewBreaker(dep.ping, BreakerConfig{Probe: 5 * time.Millisecond})
	defer b.Close()
	ctx := context.Background()
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	notFailures := []struct {
		name string
		ctx  context.Context
		err  error
	}{
		{"nil", ctx, nil},
		{"a miss", ctx, redis.Nil},
		{"a reply of the server", ctx, fmt.Errorf("wrapped: %w", redis.Error(replyErr("OOM command not allowed")))},
		{"the caller left", cancelled, context.Canceled},
	}
	for _, tt := range notFailures {
		if b.Fail(tt.ctx, tt.err) || !b.Allow() {
			t.Errorf("%s opened the breaker", tt.name)
		}
	}
	if dep.pings.Load() != 0 {
		t.Fatalf("probed %d times while closed", dep.pings.Load())
	}
	for _, err := range []error{context.DeadlineExceeded, syscall.ECONNREFUSED, redis.ErrPoolTimeout} {
		b := NewBreaker(dep.ping, BreakerConfig{Probe: time.Hour})
		if !b.Fail(ctx, fmt.Errorf("op: %w", err)) || b.Allow() {
			t.Errorf("%v did not open the breaker", err)
		}
		b.Close()
	}
	// Replies of a Cluster or Sentinel setup in the middle of a failover: the server
	// answers, but cannot serve now.
	for _, reply := range []string{"CLUSTERDOWN The cluster is down", "MASTERDOWN Link with MASTER is down and replica-serve-stale-data is set to 'no'.",
		"LOADING Redis is loading the dataset in memory", "READONLY You can't write against a read only replica.",
		"TRYAGAIN Multiple keys request during rehashing of slot"} {
		b := NewBreaker(dep.ping, BreakerConfig{Probe: time.Hour})
		if !b.Fail(ctx, replyErr(reply)) || b.Allow() {
			t.Errorf("%q did not open the breaker", reply)
		}
		b.Close()
	}
}

// replyErr is a Redis server reply (it has RedisError).
type replyErr string

func (e replyErr) Error() string { return string(e) }
func (replyErr) RedisError()     {}

// TestBreakerOutages: the first failure opens it and is reported once, however many
// callers fail; the probe (not callers) finds the dependency back; a second outage is
// reported again, and a watcher added during an outage learns of it at once.
func TestBreakerOutages(t *testing.T) {
	dep := &fakeDep{}
	b := NewBreaker(dep.ping, BreakerConfig{Probe: 5 * time.Millisecond, Timeout: 50 * time.Millisecond})
	defer b.Close()
	var seen changes
	b.Watch(seen.watch)
	ctx := context.Background()
	select {
	case <-b.Ready():
	default:
		t.Fatal("a new breaker is not ready")
	}

	for range 3 { // many callers fail at once: one outage
		b.Fail(ctx, syscall.ECONNREFUSED)
	}
	if b.Allow() {
		t.Fatal("open breaker allows calls")
	}
	ready := b.Ready()
	waitUntil(t, "probes", func() bool { return dep.pings.Load() >= 3 })
	if b.Allow() {
		t.Fatal("closed while the probe fails")
	}
	var late changes
	b.Watch(late.watch)
	dep.up.Store(true)
	<-ready
	waitUntil(t, "the up notification", func() bool { return seen.String() == "[down(connection refused) up]" })
	if !b.Allow() {
		t.Fatal("not closed after the probe answered")
	}
	if got := late.String(); got != "[down(connection refused) up]" {
		t.Errorf("late watcher saw %s", got)
	}
	pings := dep.pings.Load()
	time.Sleep(20 * time.Millisecond)
	if dep.pings.Load() != pings {
		t.Error("probing while closed")
	}

	dep.up.Store(false)
	b.Fail(ctx, errors.Join(errors.New("read"), context.DeadlineExceeded))
	dep.up.Store(true)
	waitUntil(t, "the second outage to end", func() bool { return b.Allow() && len(seen.String()) > 40 })
	waitUntil(t, "its notifications", func() bool {
		return seen.String() == "[down(connection refused) up down(read\ncontext deadline exceeded) up]"
	})
}

// TestBreakerClose stops the probe of an open breaker, and a nil breaker allows all.
func TestBreakerClose(t *testing.T) {
	dep := &fakeDep{}
	b := NewBreaker(dep.ping, BreakerConfig{Probe: time.Millisecond})
	b.Trip(syscall.ECONNREFUSED)
	waitUntil(t, "a probe", func() bool { return dep.pings.Load() > 0 })
	b.Close()
	n := dep.pings.Load()
	time.Sleep(10 * time.Millisecond)
	if dep.pings.Load() != n || b.Allow() {
		t.Fatalf("probing after Close, or closed by it (allow %v)", b.Allow())
	}
	var none *Breaker
	if !none.Allow() || none.Fail(context.Background(), syscall.ECONNREFUSED) {
		t.Fatal("a nil breaker refuses")
	}
	<-none.Ready()
}
