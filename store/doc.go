// Package store is HAPA's persistence: sqlx over embedded SQLite (modernc.org/sqlite)
// or PostgreSQL (lib/pq), one file per table, embedded numbered migrations per dialect,
// and the in-memory and Redis response caches.
//
// Invariants: the two migration folders hold the same file names; every migration runs
// in one transaction and is recorded in schema_migrations; API keys are stored only as
// SHA-256 hashes. The package imports nothing internal.
package store
