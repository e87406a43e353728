package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hapa-project/hapa/store"
)

// Event types carried on the events channel (the Redis prefix + "events": pub/sub
// ignores Redis's database number, so the prefix keeps deployments apart).
const (
	EventKeyRevoked   = "key_revoked"   // KeyID: end the key's streams and sockets, drop it from auth caches
	EventTokenRevoked = "token_revoked" // TokenID until Expires: a logged-out JWT or login session
	EventCacheCleared = "cache_cleared" // Namespace ("" = all): clear the local cache
)

// ClusterEvent is one cross-replica event. Origin identifies the publishing replica,
// which has already applied the event locally and ignores its own echo.
type ClusterEvent struct {
	Type      string    `json:"type"`
	KeyID     int64     `json:"key_id,omitempty"`
	TokenID   string    `json:"token_id,omitempty"`
	Expires   time.Time `json:"expires,omitzero"`
	Namespace string    `json:"namespace,omitempty"`
	Origin    string    `json:"origin,omitempty"`
}

// Events publishes and delivers ClusterEvents: a publish runs this replica's handlers
// at once and, with Redis, reaches every other replica through the channel. Run
// keeps the subscription, reconnecting after failures. Delivery is at most once: an
// event published while a replica is disconnected from Redis is not replayed to it.
// While Redis's breaker is open (store.Breaker) Publish delivers locally only and
// returns at once, and Run waits for the breaker to close before subscribing again.
type Events struct {
	rdb     redis.UniversalClient
	br      *store.Breaker
	channel string
	origin  string
	log     *slog.Logger

	mu       sync.RWMutex
	handlers []func(ClusterEvent)
}

// NewEvents builds the event bus on Redis channel prefix+"events"; rdb nil means one
// replica (local delivery only). It guards rdb with a breaker of its own unless
// UseBreaker gives it the one shared with rdb's other users.
func NewEvents(rdb redis.UniversalClient, prefix string, log *slog.Logger) *Events {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	e := &Events{rdb: store.RedisOrNil(rdb), channel: prefix + "events", origin: replicaID(), log: log}
	if e.rdb != nil {
		e.br = store.NewRedisBreaker(e.rdb, store.BreakerConfig{})
	}
	return e
}

// UseBreaker makes e use br, the breaker of its Redis client shared with the client's
// other users; call it before Run and Publish. It returns e.
func (e *Events) UseBreaker(br *store.Breaker) *Events {
	if br != nil && e.rdb != nil {
		e.br = br
	}
	return e
}

// Subscribe adds a handler for every event, local or remote. Handlers run on the
// publisher's goroutine (local) or Run's (remote) and must not block for long.
func (e *Events) Subscribe(fn func(ClusterEvent)) {
	e.mu.Lock()
	e.handlers = append(e.handlers, fn)
	e.mu.Unlock()
}

func (e *Events) deliver(ev ClusterEvent) {
	e.mu.RLock()
	hs := e.handlers
	e.mu.RUnlock()
	for _, h := range hs {
		h(ev)
	}
}

// Publish applies ev on this replica and sends it to the others. The error reports
// only the Redis publish (the local handlers have run).
func (e *Events) Publish(ctx context.Context, ev ClusterEvent) error {
	ev.Origin = e.origin
	e.deliver(ev)
	if e.rdb == nil {
		return nil
	}
	if !e.br.Allow() {
		return errors.Join(errors.New("realtime: publish event"), store.ErrBreakerOpen)
	}
	b, err := json.Marshal(ev)
	if err != nil {
		return err
	}
	pctx, cancel := context.WithTimeout(ctx, e.br.Timeout())
	defer cancel()
	if err := e.rdb.Publish(pctx, e.channel, b).Err(); err != nil {
		e.br.Fail(ctx, err)
		return errors.Join(errors.New("realtime: publish event"), err)
	}
	return nil
}

// Run receives remote events until ctx ends (at once without Redis), re-subscribing
// with a backoff of 100ms doubling to 5s after a failure, and not before Redis's
// breaker is closed. A subscription that cannot be made for want of a connection opens
// the breaker: a replica that sends nothing else to Redis would otherwise subscribe
// again and again to a dead master, because on a Cluster only the breaker's probe
// reloads the slot map that names the channel's new master (docs/operations.md, "Redis
// Sentinel and Cluster"). A subscription that drops (an idle connection cut by a
// proxy) is only made again: the next attempt tells whether Redis is down.
func (e *Events) Run(ctx context.Context) error {
	if e.rdb == nil {
		<-ctx.Done()
		return nil
	}
	backoff := 100 * time.Millisecond
	for ctx.Err() == nil {
		select {
		case <-ctx.Done():
			return nil
		case <-e.br.Ready():
		}
		if e.receive(ctx) {
			backoff = 100 * time.Millisecond
		}
		select {
		case <-ctx.Done():
		case <-time.After(backoff):
			backoff = min(2*backoff, 5*time.Second)
		}
	}
	return nil
}

// receive runs one subscription until it fails; it reports whether it was confirmed.
func (e *Events) receive(ctx context.Context) (confirmed bool) {
	ps := e.rdb.Subscribe(ctx, e.channel)
	defer ps.Close()
	// go-redis does not interrupt a blocked read when ctx ends; closing does.
	stop := context.AfterFunc(ctx, func() { ps.Close() })
	defer stop()
	if _, err := ps.Receive(ctx); err != nil { // the subscription confirmation
		if ctx.Err() == nil {
			e.log.Warn("events: subscribe failed", slog.String("error", err.Error()))
			e.br.Fail(ctx, err)
		}
		return false
	}
	for {
		msg, err := ps.ReceiveMessage(ctx)
		if err != nil {
			if ctx.Err() == nil {
				e.log.Warn("events: subscription lost, reconnecting", slog.String("error", err.Error()))
			}
			return true
		}
		var ev ClusterEvent
		if err := json.Unmarshal([]byte(msg.Payload), &ev); err != nil || ev.Type == "" {
			e.log.Warn("events: malformed event ignored")
			continue
		}
		if ev.Origin == e.origin {
			continue
		}
		e.deliver(ev)
	}
}

// replicaID is a random id of this process, for ignoring its own published events.
func replicaID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
