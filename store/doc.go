// Package store is HAPA's persistence: sqlx over embedded SQLite (modernc.org/sqlite)
// or PostgreSQL (lib/pq), one file per table, embedded numbered migrations per dialect,
// and the response caches: in memory, in Redis, and tiered (Redis in front of this
// replica's memory, which takes over while Redis fails). NewRedis builds the Redis
// client of a REDIS_URL — one server, Sentinel or Cluster (ParseRedisURL) — which every
// user takes as a redis.UniversalClient. store/storetest gives tests real databases,
// Redis, Redis Cluster and Sentinel setups, and a fault proxy.
//
// Open picks the dialect from the URL: sqlite:///relative/path, sqlite:////abs/path,
// sqlite://:memory: (one connection, so the data lives as long as the DB), or
// postgres://… / postgresql://…. Queries are written with ? and Rebind.
//
// Tables (migrations/<dialect>/NNNN_name.sql): users, user_settings, api_keys,
// admin_sessions (0001); request_log, incidents (0002); history_sessions,
// history_entries (0003); revoked_tokens (0004); client_errors (0005);
// admin_audit (0006); incident_notes (0008); the usage rollups usage_hourly,
// usage_hourly_keys and usage_daily_keys (0009, kept by RequestLog.InsertBatch);
// upstream_states (0011). Each has one file here with a small typed accessor
// reached from *DB: Users, Settings, APIKeys, AdminSessions, RequestLog,
// Incidents, History, RevokedTokens, ClientErrors, AuditLog, Usage,
// UpstreamStates.
//
// Invariants:
//   - The two migration folders hold the same file names (a test checks). A file,
//     once released, is never edited: changes go in a new, higher-numbered file in
//     both folders.
//   - Every migration runs in one transaction together with its schema_migrations
//     row; on PostgreSQL under pg_advisory_xact_lock, so replicas may migrate at once.
//   - Times are stored in UTC with millisecond precision (TIMESTAMPTZ on PostgreSQL,
//     a sortable DATETIME text on SQLite) and round-trip exactly.
//   - API keys are stored only as SHA-256 hashes plus a 12-character display prefix.
//   - Errors are wrapped "store: <op>: …"; ErrNotFound and ErrConflict (unique
//     violation) match with errors.Is on both dialects.
//
// The package imports nothing internal and holds no package-level mutable state.
package store
