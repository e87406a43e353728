package storetest

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// RedisSentinelSetup is one master, one replica and one sentinel on loopback,
// started from Debian's redis-server and redis-sentinel for one test. The sentinel
// (quorum 1) marks the master down after 1 s without an answer and promotes the
// replica.
type RedisSentinelSetup struct {
	Master, Replica, Sentinel *RedisNode
	MasterName                string
	URL                       string // REDIS_URL: redis-sentinel://127.0.0.1:<sentinel>/0?master=<name>
	t                         testing.TB
}

// RedisSentinel starts the three processes and waits until the replica is in sync
// and the sentinel knows it (a sentinel can promote only a replica it has seen). It
// skips the test when the programs are not installed, unless HAPA_REQUIRE_REDIS_HA=1.
func RedisSentinel(t testing.TB) *RedisSentinelSetup {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Redis servers")
	}
	redisBinary(t, "redis-sentinel") // skip before starting anything
	s := &RedisSentinelSetup{MasterName: "hapa", t: t}
	s.Master = startRedis(t, false, 0, func([]int) []string { return nil })
	s.Replica = startRedis(t, false, 0, func([]int) []string {
		return []string{"replicaof 127.0.0.1 " + strconv.Itoa(s.Master.Port)}
	})
	waitUntil(t, "the replica in sync", func() bool {
		info, err := s.Replica.Client().Info(context.Background(), "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	})
	s.Sentinel = startRedis(t, true, 0, func([]int) []string {
		return []string{
			fmt.Sprintf("sentinel monitor %s 127.0.0.1 %d 1", s.MasterName, s.Master.Port),
			"sentinel down-after-milliseconds " + s.MasterName + " 1000",
			"sentinel failover-timeout " + s.MasterName + " 10000",
			"sentinel parallel-syncs " + s.MasterName + " 1",
		}
	})
	waitUntil(t, "the sentinel to see the replica", func() bool {
		out, err := do(s.Sentinel.Client(), "SENTINEL", "REPLICAS", s.MasterName)
		return err == nil && strings.Contains(fmt.Sprint(out), strconv.Itoa(s.Replica.Port))
	})
	s.URL = fmt.Sprintf("redis-sentinel://%s/0?master=%s", s.Sentinel.Addr, s.MasterName)
	return s
}

// Client returns HAPA's client of the setup (store.NewRedis of URL), closed when the
// test ends.
func (s *RedisSentinelSetup) Client() redis.UniversalClient {
	s.t.Helper()
	return hapaClient(s.t, s.URL)
}

// MasterAddr returns the master's address as the sentinel reports it now.
func (s *RedisSentinelSetup) MasterAddr() string {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	addr, err := s.Sentinel.Client().Do(ctx, "SENTINEL", "GET-MASTER-ADDR-BY-NAME", s.MasterName).StringSlice()
	if err != nil || len(addr) != 2 {
		return ""
	}
	return addr[0] + ":" + addr[1]
}
