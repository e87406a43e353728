package limits

import (
	"context"
	"log/slog"
	"strconv"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hapa-project/hapa/store"
)

// SocketConfig configures Sockets. A zero field means the documented default.
type SocketConfig struct {
	Prefix       string        // Redis key prefix; default "hapa:ws"
	LeaseTTL     time.Duration // a lease not renewed for this long lapses (its replica died); default 60s
	RedisTimeout time.Duration // longest wait for Redis per operation; default 250ms
	// Breaker guards Redis, shared with its other users (store.Breaker); nil: one of
	// its own. While it is open the hub counts this replica's sockets only.
	Breaker *store.Breaker
}

// Sockets counts the editor sockets of each API key (or JWT user) across every
// replica, for WS_MAX_CONNS_PER_KEY (docs/operations.md, "Running several replicas").
// Each open socket holds a lease in a Redis sorted set per key (member: the session
// id, score: when the lease lapses); the replica renews its leases every LeaseTTL/3,
// so the sockets of a replica that dies stop counting after at most LeaseTTL.
// Without Redis, or while its breaker is open, Acquire reports an error at once and the
// hub counts this replica's sockets only; when Redis is back the held leases are
// renewed at once.
type Sockets struct {
	cfg SocketConfig
	rdb redis.UniversalClient
	log *slog.Logger
	now func() time.Time

	mu   sync.Mutex
	held map[string]map[string]struct{} // key → session ids with a lease

	br   *store.Breaker
	kick chan struct{} // Redis is back: renew now
}

// NewSockets builds the lease counter; rdb nil means the hub counts per replica.
func NewSockets(cfg SocketConfig, rdb redis.UniversalClient, log *slog.Logger) *Sockets {
	if cfg.Prefix == "" {
		cfg.Prefix = "hapa:ws"
	}
	if cfg.LeaseTTL <= 0 {
		cfg.LeaseTTL = 60 * time.Second
	}
	if cfg.RedisTimeout <= 0 {
		cfg.RedisTimeout = 250 * time.Millisecond
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	s := &Sockets{cfg: cfg, rdb: store.RedisOrNil(rdb), log: log, now: time.Now, held: map[string]map[string]struct{}{},
		br: cfg.Breaker, kick: make(chan struct{}, 1)}
	if s.rdb != nil && s.br == nil {
		s.br = store.NewRedisBreaker(s.rdb, store.BreakerConfig{Timeout: cfg.RedisTimeout})
	}
	s.br.Watch(func(up bool, _ error) {
		if up {
			select {
			case s.kick <- struct{}{}:
			default:
			}
		}
	})
	return s
}

// errNoRedis is Acquire's answer when the count cannot be cluster-wide.
type errNoRedis struct{}

func (errNoRedis) Error() string { return "limits: sockets: no Redis, counting on this replica" }

// leaseKey is the sorted set of key's leases; the key is a Redis Cluster hash tag.
func (s *Sockets) leaseKey(key string) string { return s.cfg.Prefix + ":{" + key + "}" }

// acquireScript drops lapsed leases, then adds ARGV[2] with score ARGV[3] unless the
// set already holds ARGV[1] members. KEYS[1]: the set. ARGV[4]: now (ms), ARGV[5]:
// the set's expiry (ms). Returns 1 when added (or already held), 0 when full.
var acquireScript = redis.NewScript(`
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', ARGV[4])
if redis.call('ZSCORE', KEYS[1], ARGV[2]) then
  redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
  return 1
end
if redis.call('ZCARD', KEYS[1]) >= tonumber(ARGV[1]) then
  return 0
end
redis.call('ZADD', KEYS[1], ARGV[3], ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[5])
return 1
`)

// Acquire takes a lease for session among key's at most max sockets: false when the
// key already holds max on all replicas together. An error means Redis could not
// answer (or is not configured): the caller counts on its own replica.
func (s *Sockets) Acquire(ctx context.Context, key, session string, max int) (bool, error) {
	now := s.now()
	if s.rdb == nil || !s.br.Allow() {
		return false, errNoRedis{}
	}
	rctx, cancel := context.WithTimeout(ctx, s.cfg.RedisTimeout)
	defer cancel()
	lapse := now.Add(s.cfg.LeaseTTL).UnixMilli()
	ok, err := acquireScript.Run(rctx, s.rdb, []string{s.leaseKey(key)}, max, session, lapse,
		now.UnixMilli(), (2 * s.cfg.LeaseTTL).Milliseconds()).Int()
	if err != nil {
		s.failed(ctx, err)
		return false, err
	}
	if ok == 0 {
		return false, nil
	}
	s.mu.Lock()
	m := s.held[key]
	if m == nil {
		m = map[string]struct{}{}
		s.held[key] = m
	}
	m[session] = struct{}{}
	s.mu.Unlock()
	return true, nil
}

// Release gives session's lease back (a socket closed).
func (s *Sockets) Release(key, session string) {
	s.mu.Lock()
	m := s.held[key]
	_, had := m[session]
	delete(m, session)
	if len(m) == 0 {
		delete(s.held, key)
	}
	s.mu.Unlock()
	if !had || s.rdb == nil || !s.br.Allow() {
		return // the lease lapses after LeaseTTL
	}
	ctx, cancel := context.WithTimeout(context.Background(), s.cfg.RedisTimeout)
	defer cancel()
	if err := s.rdb.ZRem(ctx, s.leaseKey(key), session).Err(); err != nil {
		s.failed(context.Background(), err) // the lease lapses after LeaseTTL
	}
}

// Run renews this replica's leases every LeaseTTL/3 until ctx ends.
func (s *Sockets) Run(ctx context.Context) error {
	if s.rdb == nil {
		<-ctx.Done()
		return nil
	}
	t := time.NewTicker(s.cfg.LeaseTTL / 3)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			s.renew(ctx)
		case <-s.kick:
			s.renew(ctx)
		}
	}
}

// renew pushes every held lease's lapse time forward in one pipeline.
func (s *Sockets) renew(ctx context.Context) {
	if !s.br.Allow() {
		return
	}
	s.mu.Lock()
	if len(s.held) == 0 {
		s.mu.Unlock()
		return
	}
	lapse := float64(s.now().Add(s.cfg.LeaseTTL).UnixMilli())
	type lease struct{ set, session string }
	var all []lease
	for key, m := range s.held {
		for session := range m {
			all = append(all, lease{s.leaseKey(key), session})
		}
	}
	s.mu.Unlock()
	rctx, cancel := context.WithTimeout(ctx, 4*s.cfg.RedisTimeout)
	defer cancel()
	_, err := s.rdb.Pipelined(rctx, func(p redis.Pipeliner) error {
		for _, l := range all {
			p.ZAdd(rctx, l.set, redis.Z{Score: lapse, Member: l.session})
			p.PExpire(rctx, l.set, 2*s.cfg.LeaseTTL)
		}
		return nil
	})
	if err != nil {
		s.failed(ctx, err)
	}
}

// Count returns how many leases key holds across replicas (for tests and the console).
func (s *Sockets) Count(ctx context.Context, key string) (int, error) {
	if s.rdb == nil {
		return 0, errNoRedis{}
	}
	n, err := s.rdb.ZCount(ctx, s.leaseKey(key), strconv.FormatInt(s.now().UnixMilli(), 10), "+inf").Result()
	return int(n), err
}

// failed reports a failed Redis operation made under ctx: a connection failure opens
// the breaker; another error is logged.
func (s *Sockets) failed(ctx context.Context, err error) {
	if !s.br.Fail(ctx, err) && ctx.Err() == nil {
		s.log.Warn("sockets: redis operation failed, counting sockets per replica", slog.String("error", err.Error()))
	}
}
