// Package storetest gives tests the real dependencies HAPA runs on: migrated SQLite and
// PostgreSQL databases in throwaway schemas, a Redis client with a private key prefix,
// a TCP fault proxy that can refuse, black-hole, slow down or cut the connections
// between a client and any of them, and Redis Cluster (RedisCluster) and Sentinel
// (RedisSentinel) setups of real redis-server and redis-sentinel processes, private to
// one test, whose nodes a test can kill.
//
// PostgreSQL and Redis come from TEST_DATABASE_URL and TEST_REDIS_URL. Unset, the
// tests that need them are skipped (SQLite always runs); set but unreachable, they
// fail: CI sets both and must not pass by skipping. The Cluster and Sentinel setups
// skip when Debian's redis-server or redis-sentinel is not installed, and fail instead
// with HAPA_REQUIRE_REDIS_HA=1 (.ci/run sets it).
//
// Only tests import this package.
package storetest
