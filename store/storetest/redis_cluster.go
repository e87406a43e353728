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

// RedisClusterSetup is a Redis Cluster of three masters on loopback, each with
// `replicas` replicas, started from Debian's redis-server for one test
// (cluster-node-timeout 1 s, so a killed master's replica takes over within seconds).
type RedisClusterSetup struct {
	Masters  []*RedisNode
	Replicas []*RedisNode // Replicas[i*replicas+j] replicates Masters[i]
	URL      string       // REDIS_URL of the cluster: redis-cluster://seed1,seed2,seed3
	t        testing.TB
}

// redisSlots is the number of hash slots of a Redis Cluster.
const redisSlots = 16384

// RedisCluster starts three masters (and replicas per master), assigns the hash
// slots by hand (CLUSTER ADDSLOTSRANGE, MEET, REPLICATE) and waits until every node
// reports cluster_state:ok and every replica is in sync. It skips the test when
// redis-server is not installed, unless HAPA_REQUIRE_REDIS_HA=1.
func RedisCluster(t testing.TB, replicas int) *RedisClusterSetup {
	t.Helper()
	if testing.Short() {
		t.Skip("starts Redis servers")
	}
	s := &RedisClusterSetup{t: t}
	node := func() *RedisNode {
		return startRedis(t, false, 1, func(ports []int) []string {
			return []string{"cluster-enabled yes", "cluster-config-file nodes.conf", "cluster-node-timeout 1000",
				"cluster-port " + strconv.Itoa(ports[1]), "cluster-replica-validity-factor 0"}
		})
	}
	for range 3 {
		s.Masters = append(s.Masters, node())
	}
	for range 3 * replicas {
		s.Replicas = append(s.Replicas, node())
	}
	all := append(append([]*RedisNode{}, s.Masters...), s.Replicas...)
	for i, m := range s.Masters {
		c := m.Client()
		if _, err := do(c, "CLUSTER", "SET-CONFIG-EPOCH", i+1); err != nil {
			t.Fatalf("set-config-epoch: %v", err)
		}
		lo, hi := i*redisSlots/3, (i+1)*redisSlots/3-1
		if _, err := do(c, "CLUSTER", "ADDSLOTSRANGE", lo, hi); err != nil {
			t.Fatalf("addslotsrange %d-%d: %v", lo, hi, err)
		}
	}
	first := s.Masters[0].Client()
	for _, n := range all[1:] {
		if _, err := do(first, "CLUSTER", "MEET", "127.0.0.1", n.Port, n.Ports[1]); err != nil {
			t.Fatalf("cluster meet: %v", err)
		}
	}
	waitUntil(t, "every node to know the others", func() bool {
		for _, n := range all {
			out, err := do(n.Client(), "CLUSTER", "NODES")
			if err != nil || strings.Count(fmt.Sprint(out), " connected") < len(all) {
				return false
			}
		}
		return true
	})
	for i, r := range s.Replicas {
		master := s.Masters[i/max(replicas, 1)]
		id, err := do(master.Client(), "CLUSTER", "MYID")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := do(r.Client(), "CLUSTER", "REPLICATE", id); err != nil {
			t.Fatalf("cluster replicate: %v", err)
		}
	}
	waitUntil(t, "cluster_state:ok on every node and the replicas in sync", func() bool {
		for _, n := range all {
			info, err := do(n.Client(), "CLUSTER", "INFO")
			if err != nil || !strings.Contains(fmt.Sprint(info), "cluster_state:ok") {
				return false
			}
		}
		for _, r := range s.Replicas {
			info, err := r.Client().Info(context.Background(), "replication").Result()
			if err != nil || !strings.Contains(info, "master_link_status:up") {
				return false
			}
		}
		return true
	})
	seeds := make([]string, len(s.Masters))
	for i, m := range s.Masters {
		seeds[i] = m.Addr
	}
	s.URL = "redis-cluster://" + strings.Join(seeds, ",")
	return s
}

// Client returns HAPA's client of the cluster (store.NewRedis of URL), closed when
// the test ends.
func (s *RedisClusterSetup) Client() redis.UniversalClient {
	s.t.Helper()
	return hapaClient(s.t, s.URL)
}

// MasterOf returns the master that serves key now (CLUSTER KEYSLOT, then CLUSTER
// SLOTS as a live node sees it).
func (s *RedisClusterSetup) MasterOf(key string) *RedisNode {
	s.t.Helper()
	for _, n := range append(append([]*RedisNode{}, s.Masters...), s.Replicas...) {
		c := n.Client()
		ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		slot, err := c.ClusterKeySlot(ctx, key).Result()
		var slots []redis.ClusterSlot
		if err == nil {
			slots, err = c.ClusterSlots(ctx).Result()
		}
		cancel()
		if err != nil {
			continue // a node killed by the test
		}
		for _, r := range slots {
			if int64(r.Start) <= slot && slot <= int64(r.End) && len(r.Nodes) > 0 {
				for _, m := range append(append([]*RedisNode{}, s.Masters...), s.Replicas...) {
					if m.Addr == r.Nodes[0].Addr {
						return m
					}
				}
			}
		}
	}
	s.t.Fatalf("no master serves %q", key)
	return nil
}
