package store

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strconv"
	"strings"

	"github.com/jmoiron/sqlx"
)

//go:embed migrations/sqlite/*.sql migrations/postgres/*.sql
var embeddedMigrations embed.FS

// migrationLockKey is the first half of the PostgreSQL advisory lock key; the
// second half is a hash of the current schema, so replicas migrating the same
// schema serialise while different schemas (tests) do not block each other.
const migrationLockKey = 0x4a7a

// Migration is one numbered .sql file.
type Migration struct {
	Version int
	Name    string // file name, e.g. "0001_accounts.sql"
}

// migrationFiles lists the .sql files at the root of fsys in version order.
func migrationFiles(fsys fs.FS) ([]Migration, error) {
	entries, err := fs.ReadDir(fsys, ".")
	if err != nil {
		return nil, err
	}
	var out []Migration
	seen := map[int]string{}
	for _, e := range entries {
		if e.IsDir() || path.Ext(e.Name()) != ".sql" {
			continue
		}
		num, _, ok := strings.Cut(e.Name(), "_")
		v, err := strconv.Atoi(num)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must start with a positive number and '_'", e.Name())
		}
		if prev, dup := seen[v]; dup {
			return nil, fmt.Errorf("migrations %s and %s share version %d", prev, e.Name(), v)
		}
		seen[v] = e.Name()
		out = append(out, Migration{Version: v, Name: e.Name()})
	}
	slices.SortFunc(out, func(a, b Migration) int { return a.Version - b.Version })
	return out, nil
}

// Migrate applies every pending migration in version order, each in its own
// transaction together with its schema_migrations row, and returns the names
// applied. A failing file is rolled back and named in the error; the files
// before it stay applied. Running it again is a no-op. On PostgreSQL each
// transaction holds an advisory lock and re-checks the version, so replicas
// migrating at once apply every file exactly once.
func (db *DB) Migrate(ctx context.Context) ([]string, error) {
	files, err := migrationFiles(db.migrations)
	if err != nil {
		return nil, fmt.Errorf("store: migrate: %w", err)
	}
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := db.lockMigrations(ctx, tx); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, db.schemaMigrationsDDL())
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("store: migrate: create schema_migrations: %w", err)
	}
	var applied []string
	for _, m := range files {
		did, err := db.applyMigration(ctx, m)
		if err != nil {
			return applied, fmt.Errorf("store: migrate: %s: %w", m.Name, err)
		}
		if did {
			applied = append(applied, m.Name)
		}
	}
	return applied, nil
}

func (db *DB) applyMigration(ctx context.Context, m Migration) (bool, error) {
	body, err := fs.ReadFile(db.migrations, m.Name)
	if err != nil {
		return false, err
	}
	did := false
	err = db.inTx(ctx, func(tx *sqlx.Tx) error {
		if err := db.lockMigrations(ctx, tx); err != nil {
			return err
		}
		var n int
		q := tx.Rebind(`SELECT COUNT(*) FROM schema_migrations WHERE version = ?`)
		if err := tx.GetContext(ctx, &n, q, m.Version); err != nil {
			return err
		}
		if n > 0 {
			return nil
		}
		if _, err := tx.ExecContext(ctx, string(body)); err != nil {
			return err
		}
		q = tx.Rebind(`INSERT INTO schema_migrations (version, name, applied_at) VALUES (?, ?, ?)`)
		if _, err := tx.ExecContext(ctx, q, m.Version, m.Name, db.nowUTC()); err != nil {
			return err
		}
		did = true
		return nil
	})
	return did, err
}

func (db *DB) lockMigrations(ctx context.Context, tx *sqlx.Tx) error {
	if db.dialect != Postgres {
		return nil // SQLite transactions are IMMEDIATE: already exclusive for writers.
	}
	_, err := tx.ExecContext(ctx, `SELECT pg_advisory_xact_lock($1, hashtext(current_schema()))`, migrationLockKey)
	return err
}

func (db *DB) schemaMigrationsDDL() string {
	if db.dialect == Postgres {
		return `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TIMESTAMPTZ NOT NULL)`
	}
	return `CREATE TABLE IF NOT EXISTS schema_migrations (
	version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at DATETIME NOT NULL)`
}

// PendingMigrations returns the migrations not yet recorded, in order.
func (db *DB) PendingMigrations(ctx context.Context) ([]Migration, error) {
	files, err := migrationFiles(db.migrations)
	if err != nil {
		return nil, fmt.Errorf("store: pending migrations: %w", err)
	}
	exists, err := db.tableExists(ctx, "schema_migrations")
	if err != nil || !exists {
		return files, wrap("pending migrations", err)
	}
	var done []int
	if err := db.x.SelectContext(ctx, &done, `SELECT version FROM schema_migrations`); err != nil {
		return nil, wrap("pending migrations", err)
	}
	return slices.DeleteFunc(files, func(m Migration) bool { return slices.Contains(done, m.Version) }), nil
}

// IsFresh reports whether the database has no tables at all (in the current
// schema on PostgreSQL). serve migrates a fresh SQLite file automatically.
func (db *DB) IsFresh(ctx context.Context) (bool, error) {
	var n int
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%'`
	if db.dialect == Postgres {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema()`
	}
	if err := db.x.GetContext(ctx, &n, q); err != nil {
		return false, wrap("is fresh", err)
	}
	return n == 0, nil
}

func (db *DB) tableExists(ctx context.Context, name string) (bool, error) {
	var n int
	q := `SELECT COUNT(*) FROM sqlite_master WHERE type = 'table' AND name = ?`
	if db.dialect == Postgres {
		q = `SELECT COUNT(*) FROM information_schema.tables WHERE table_schema = current_schema() AND table_name = $1`
	}
	err := db.x.GetContext(ctx, &n, q, name)
	return n > 0, err
}
