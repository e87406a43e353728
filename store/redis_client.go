package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
	"github.com/redis/go-redis/v9/maintnotifications"
)

// NewRedis builds the client a REDIS_URL names (ParseRedisURL): a *redis.Client for
// one server or for the master that Sentinel names (it follows a failover), a
// *redis.ClusterClient for a Cluster. Timeouts are short, suited to a cache that must
// never stall a request. It does not connect; PingRedis checks it.
func NewRedis(rawURL string) (redis.UniversalClient, error) {
	o, err := ParseRedisURL(rawURL)
	if err != nil {
		return nil, fmt.Errorf("store: REDIS_URL: %w", err)
	}
	// Maintenance notifications are a Redis Enterprise feature: against any other
	// server the handshake only fails (and logs) on every new connection. go-redis's
	// Sentinel client never sends it.
	off := func() *maintnotifications.Config {
		return &maintnotifications.Config{Mode: maintnotifications.ModeDisabled}
	}
	switch o.Mode {
	case RedisSentinel:
		f := o.Failover
		f.ContextTimeoutEnabled = true
		f.DialTimeout, f.ReadTimeout, f.WriteTimeout = redisTimeouts(f.DialTimeout, f.ReadTimeout, f.WriteTimeout)
		return redis.NewFailoverClient(f), nil
	case RedisCluster:
		c := o.Cluster
		c.ContextTimeoutEnabled = true
		c.DialTimeout, c.ReadTimeout, c.WriteTimeout = redisTimeouts(c.DialTimeout, c.ReadTimeout, c.WriteTimeout)
		c.MaintNotificationsConfig = off()
		return redis.NewClusterClient(c), nil
	}
	s := o.Single
	s.ContextTimeoutEnabled = true // per-op contexts bound the socket deadlines
	s.DialTimeout, s.ReadTimeout, s.WriteTimeout = redisTimeouts(s.DialTimeout, s.ReadTimeout, s.WriteTimeout)
	s.MaintNotificationsConfig = off()
	return redis.NewClient(s), nil
}

// redisTimeouts fills the timeouts the URL left unset: dial 2 s, read and write 1 s
// (each operation's own context is shorter still).
func redisTimeouts(dial, read, write time.Duration) (time.Duration, time.Duration, time.Duration) {
	if dial == 0 {
		dial = 2 * time.Second
	}
	if read == 0 {
		read = time.Second
	}
	if write == 0 {
		write = time.Second
	}
	return dial, read, write
}

// ErrRedisClusterDown says that a Redis Cluster has slots without a master.
var ErrRedisClusterDown = errors.New("store: redis cluster: cluster_state is not ok")

// PingRedis checks that rdb can serve. One server, or Sentinel's master: PING. A
// Cluster: every master (the slot map is reloaded first, so a promoted replica counts)
// answers CLUSTER INFO with cluster_state:ok — a cluster that lost a master answers
// PING but refuses every keyed command with CLUSTERDOWN until a replica takes over.
func PingRedis(ctx context.Context, rdb redis.UniversalClient) error {
	cc, ok := rdb.(*redis.ClusterClient)
	if !ok {
		return rdb.Ping(ctx).Err()
	}
	return cc.ForEachMaster(ctx, func(ctx context.Context, node *redis.Client) error {
		info, err := node.ClusterInfo(ctx).Result()
		if err != nil {
			return err
		}
		if !strings.Contains(info, "cluster_state:ok") {
			return ErrRedisClusterDown
		}
		return nil
	})
}

// RedisOrNil turns a typed nil client ((*redis.Client)(nil) when REDIS_URL is unset,
// or a nil *redis.ClusterClient) into a nil interface, so that "no Redis configured"
// cannot be mistaken for a client.
func RedisOrNil(c redis.UniversalClient) redis.UniversalClient {
	switch rc := c.(type) {
	case *redis.Client:
		if rc == nil {
			return nil
		}
	case *redis.ClusterClient:
		if rc == nil {
			return nil
		}
	}
	return c
}
