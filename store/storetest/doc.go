// Package storetest gives tests the real dependencies HAPA runs on: migrated SQLite and
// PostgreSQL databases in throwaway schemas, a Redis client with a private key prefix,
// and a TCP fault proxy that can refuse, black-hole, slow down or cut the connections
// between a client and any of them.
//
// PostgreSQL and Redis come from TEST_DATABASE_URL and TEST_REDIS_URL. Unset, the
// tests that need them are skipped (SQLite always runs); set but unreachable, they
// fail: CI sets both and must not pass by skipping.
//
// Only tests import this package.
package storetest
