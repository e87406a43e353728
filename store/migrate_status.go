package store

import (
	"context"
	"fmt"
	"time"
)

// MigrationState is one migration file and, once applied, when.
type MigrationState struct {
	Migration
	AppliedAt *time.Time // nil while pending
}

// MigrationStatus lists every migration file of the dialect in version order with the
// time it was applied (nil when pending), and the versions recorded in
// schema_migrations that no file of this binary knows (a newer binary applied them).
func (db *DB) MigrationStatus(ctx context.Context) (all []MigrationState, unknown []Migration, err error) {
	files, err := migrationFiles(db.migrations)
	if err != nil {
		return nil, nil, fmt.Errorf("store: migration status: %w", err)
	}
	applied := map[int]MigrationState{}
	exists, err := db.tableExists(ctx, "schema_migrations")
	if err != nil {
		return nil, nil, wrap("migration status", err)
	}
	if exists {
		var rows []struct {
			Version   int     `db:"version"`
			Name      string  `db:"name"`
			AppliedAt sqlTime `db:"applied_at"`
		}
		if err := db.x.SelectContext(ctx, &rows, `SELECT version, name, applied_at FROM schema_migrations ORDER BY version`); err != nil {
			return nil, nil, wrap("migration status", err)
		}
		for _, r := range rows {
			t := r.AppliedAt.T
			applied[r.Version] = MigrationState{Migration{r.Version, r.Name}, &t}
		}
	}
	for _, f := range files {
		st := MigrationState{Migration: f}
		if a, ok := applied[f.Version]; ok {
			st.AppliedAt = a.AppliedAt
			delete(applied, f.Version)
		}
		all = append(all, st)
	}
	for _, a := range applied {
		unknown = append(unknown, a.Migration)
	}
	return all, unknown, nil
}
