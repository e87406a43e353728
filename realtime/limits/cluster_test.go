package limits

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
)

// On a Redis Cluster a script, MGET or other command over several keys must find them
// all on one hash slot, or Redis answers CROSSSLOT (docs/operations.md, "Redis
// Sentinel and Cluster"). The quota windows of one API key are such keys: their names
// carry the key id as a hash tag, "{<id>}". These tests guard that twice: statically,
// with the slot function of the cluster specification, and by running every Redis
// path of this package against a real three-master cluster.

// keySlot is Redis Cluster's hash slot of key: CRC16 (XMODEM) of its hash tag — the
// part between the first "{" and the next "}", when not empty — else of the whole
// key, modulo 16384.
func keySlot(key string) int {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			key = key[i+1 : i+1+j]
		}
	}
	var crc uint16
	for _, b := range []byte(key) {
		crc ^= uint16(b) << 8
		for range 8 {
			if crc&0x8000 != 0 {
				crc = crc<<1 ^ 0x1021
			} else {
				crc <<= 1
			}
		}
	}
	return int(crc) % 16384
}

func TestKeySlot(t *testing.T) {
	// Values from the cluster specification and CLUSTER KEYSLOT.
	for key, want := range map[string]int{"123456789": 12739, "foo": 12182, "bar": 5061,
		"{user1000}.following": 3443, "{user1000}.followers": 3443, "foo{}{bar}": 8363, "foo{{bar}}zap": 4015, "foo{bar}{zap}": 5061} {
		if got := keySlot(key); got != want {
			t.Errorf("keySlot(%q) = %d, want %d", key, got, want)
		}
	}
}

// TestQuotaKeysShareASlot: both windows of every key, whatever the prefix, are on one
// slot, so the reservation script, the settle script and the MGET of a check never
// cross slots; and different keys spread over the cluster.
func TestQuotaKeysShareASlot(t *testing.T) {
	now := time.Date(2026, 12, 31, 23, 59, 30, 0, time.UTC)
	slots := map[int]bool{}
	for _, prefix := range []string{"hapa:q", "hapa:prod:q", "x{tenant}:q", "odd{:q"} {
		q := NewQuotas(QuotaConfig{Prefix: prefix}, nil, nil)
		for id := int64(1); id <= 200; id++ {
			ws := q.windows(realtime.Caller{KeyID: id, Quota: realtime.Quota{TokensPerMinute: 1, TokensPerDay: 1}}, now)
			if len(ws) != 2 {
				t.Fatalf("%d windows", len(ws))
			}
			if a, b := keySlot(ws[0].key), keySlot(ws[1].key); a != b {
				t.Fatalf("prefix %q key %d: %s on slot %d, %s on slot %d", prefix, id, ws[0].key, a, ws[1].key, b)
			}
			if prefix == "hapa:q" {
				slots[keySlot(ws[0].key)] = true
			}
		}
	}
	if len(slots) < 150 {
		t.Errorf("200 keys on %d slots: the hash tag should spread keys over the cluster", len(slots))
	}
}

// TestLimitsOnRedisCluster runs the limiter, the quotas (reserve, settle, check,
// charge from the request log, flush after an outage) and the socket leases on a real
// Redis Cluster of three masters: a command over keys of two slots would fail there
// with CROSSSLOT.
func TestLimitsOnRedisCluster(t *testing.T) {
	cluster := storetest.RedisCluster(t, 0)
	rdb := cluster.Client()
	ctx := context.Background()
	prefix := "hapatest:" + storetest.RandomHex(t) + ":"

	t.Run("a cross-slot script fails", func(t *testing.T) {
		err := settleScript.Run(ctx, rdb, []string{"a", "b"}, 1).Err()
		if err == nil || !strings.Contains(err.Error(), "CROSSSLOT") {
			t.Fatalf("settle over keys of two slots: %v, want CROSSSLOT (the cluster would not catch a missing hash tag)", err)
		}
	})
	t.Run("slots as the cluster computes them", func(t *testing.T) {
		q := NewQuotas(QuotaConfig{Prefix: prefix + "q"}, nil, nil)
		for _, w := range q.windows(realtime.Caller{KeyID: 42, Quota: realtime.Quota{TokensPerMinute: 1, TokensPerDay: 1}}, time.Now()) {
			got, err := rdb.ClusterKeySlot(ctx, w.key).Result()
			if err != nil || int(got) != keySlot(w.key) {
				t.Errorf("CLUSTER KEYSLOT %s = %d %v, keySlot %d", w.key, got, err, keySlot(w.key))
			}
		}
	})
	t.Run("quota windows", func(t *testing.T) {
		checkQuotaWindows(t, NewQuotas(QuotaConfig{Prefix: prefix + "q1"}, rdb, nil))
	})
	t.Run("quota reserve", func(t *testing.T) {
		checkQuotaReserve(t, NewQuotas(QuotaConfig{Prefix: prefix + "q2"}, rdb, nil))
	})
	t.Run("quota reserve concurrent", func(t *testing.T) {
		checkQuotaReserveConcurrent(t, NewQuotas(QuotaConfig{Prefix: prefix + "q3"}, rdb, nil))
	})
	t.Run("charge log over many keys", func(t *testing.T) {
		q := NewQuotas(QuotaConfig{Prefix: prefix + "q4"}, rdb, nil)
		db := storetest.OpenMigrated(t, "sqlite://:memory:")
		var rows []store.RequestLogRow
		for id := int64(1); id <= 30; id++ {
			rows = append(rows, store.RequestLogRow{KeyID: &id, UpstreamIn: int(id), UpstreamOut: 1})
		}
		if err := q.ChargeLog(db.RequestLog()).InsertBatch(ctx, rows); err != nil {
			t.Fatal(err)
		}
		for id := int64(1); id <= 30; id++ {
			if m, d := q.usage(ctx, id); m != id+1 || d != id+1 {
				t.Fatalf("key %d: minute %d day %d, want %d (one pipeline over 30 keys' windows)", id, m, d, id+1)
			}
		}
	})
	t.Run("flush after an outage", func(t *testing.T) {
		q := NewQuotas(QuotaConfig{Prefix: prefix + "q5"}, rdb, nil)
		now := q.now()
		var keys []window
		for id := int64(1); id <= 10; id++ {
			for _, w := range q.windows(realtime.Caller{KeyID: id, Quota: realtime.Quota{TokensPerMinute: 1, TokensPerDay: 1}}, now) {
				q.local.add(w.key, 7, w.end, now, true) // counted while Redis was away
				keys = append(keys, w)
			}
		}
		q.flushPending(ctx)
		for _, w := range keys {
			if n, err := rdb.Get(ctx, w.key).Int64(); err != nil || n != 7 {
				t.Fatalf("%s = %d %v after the flush, want 7", w.key, n, err)
			}
		}
	})
	t.Run("limiter", func(t *testing.T) {
		mk := func() *Limiter {
			l, err := NewLimiter(Config{Rules: limiterRules(), Prefix: prefix + "rl"}, Deps{Redis: rdb})
			if err != nil {
				t.Fatal(err)
			}
			return l
		}
		checkLimiterPerKeyPerGroup(t, mk)
		if d := mk().Check(ctx, realtime.Caller{KeyID: 99}, "", "ops"); !d.Global || d.Err != nil {
			t.Fatalf("not counted in the cluster: %+v", d)
		}
	})
	t.Run("socket leases", func(t *testing.T) {
		checkSocketsAcrossReplicas(t, rdb, prefix)
	})
	t.Run("the cluster's keys", func(t *testing.T) {
		// Every key above was written through the cluster, spread over its masters.
		used := map[string]bool{}
		for id := int64(1); id <= 30; id++ {
			q := NewQuotas(QuotaConfig{Prefix: prefix + "q4"}, nil, nil)
			w := q.windows(realtime.Caller{KeyID: id, Quota: realtime.Quota{TokensPerDay: 1}}, time.Now())[0]
			used[cluster.MasterOf(w.key).Addr] = true
		}
		if len(used) != 3 {
			t.Errorf("30 keys' windows on %d masters, want all 3", len(used))
		}
	})
}
