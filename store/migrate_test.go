package store

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
)

func TestMigrationNamesMatchAcrossDialects(t *testing.T) {
	lite, err := readDirNames(embeddedMigrations, "migrations/sqlite")
	mustNoErr(t, err)
	pg, err := readDirNames(embeddedMigrations, "migrations/postgres")
	mustNoErr(t, err)
	if len(lite) == 0 || !slices.Equal(lite, pg) {
		t.Fatalf("migration names differ:\nsqlite:   %v\npostgres: %v", lite, pg)
	}
}

func TestMigrate(t *testing.T) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db := b.open(t)
			fresh, err := db.IsFresh(ctx)
			mustNoErr(t, err)
			if !fresh {
				t.Fatal("new database not fresh")
			}
			pending, err := db.PendingMigrations(ctx)
			mustNoErr(t, err)
			applied, err := db.Migrate(ctx)
			mustNoErr(t, err)
			if len(applied) != len(pending) || len(applied) < 3 || applied[0] != "0001_accounts.sql" {
				t.Fatalf("applied %v, pending were %v", applied, pending)
			}
			again, err := db.Migrate(ctx)
			mustNoErr(t, err)
			if len(again) != 0 {
				t.Fatalf("second Migrate applied %v", again)
			}
			pending, err = db.PendingMigrations(ctx)
			mustNoErr(t, err)
			fresh, err = db.IsFresh(ctx)
			mustNoErr(t, err)
			if len(pending) != 0 || fresh {
				t.Fatalf("after migrate: pending %v, fresh %v", pending, fresh)
			}
			var names []string
			mustNoErr(t, db.x.SelectContext(ctx, &names, `SELECT name FROM schema_migrations ORDER BY version`))
			if !slices.Equal(names, applied) {
				t.Fatalf("recorded %v, applied %v", names, applied)
			}
		})
	}
}

func TestMigrateBrokenFileRollsBack(t *testing.T) {
	fsys := fstest.MapFS{
		"0001_ok.sql":    {Data: []byte("CREATE TABLE good (id INTEGER PRIMARY KEY);")},
		"0002_bad.sql":   {Data: []byte("CREATE TABLE half (id INTEGER PRIMARY KEY);\nINSERT INTO no_such_table VALUES (1);")},
		"0003_later.sql": {Data: []byte("CREATE TABLE later (id INTEGER PRIMARY KEY);")},
	}
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			ctx := context.Background()
			db := b.open(t, WithMigrations(fsys))
			applied, err := db.Migrate(ctx)
			if err == nil || !strings.Contains(err.Error(), "0002_bad.sql") {
				t.Fatalf("Migrate error = %v, want one naming 0002_bad.sql", err)
			}
			if !slices.Equal(applied, []string{"0001_ok.sql"}) {
				t.Fatalf("applied = %v", applied)
			}
			for table, want := range map[string]bool{"good": true, "half": false, "later": false} {
				got, err := db.tableExists(ctx, table)
				mustNoErr(t, err)
				if got != want {
					t.Errorf("table %s exists = %v, want %v", table, got, want)
				}
			}
			pending, err := db.PendingMigrations(ctx)
			mustNoErr(t, err)
			if len(pending) != 2 || pending[0].Name != "0002_bad.sql" {
				t.Fatalf("pending = %v", pending)
			}
		})
	}
}

func TestMigrateConcurrent(t *testing.T) {
	for _, b := range backends(t) {
		if b.name == "sqlite-memory" {
			continue // one connection: nothing runs concurrently
		}
		t.Run(b.name, func(t *testing.T) {
			db := b.open(t)
			errs := make(chan error, 4)
			total := make(chan int, 4)
			for range 4 {
				go func() {
					applied, err := db.Migrate(context.Background())
					errs <- err
					total <- len(applied)
				}()
			}
			n := 0
			for range 4 {
				mustNoErr(t, <-errs)
				n += <-total
			}
			files, err := migrationFiles(db.migrations)
			mustNoErr(t, err)
			if n != len(files) {
				t.Fatalf("concurrent migrations applied %d files in total, want %d (each once)", n, len(files))
			}
		})
	}
}

func TestOpenErrors(t *testing.T) {
	tests := []struct {
		name, url, want string
	}{
		{"unknown scheme", "mysql://localhost/x", `unsupported database URL scheme "mysql"`},
		{"no path", "sqlite://", "no path"},
		{"unreachable postgres", "postgres://u@127.0.0.1:1/db?sslmode=disable&connect_timeout=2", "127.0.0.1:1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			db, err := Open(context.Background(), tt.url)
			if err == nil {
				db.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("error %q does not contain %q", err, tt.want)
			}
			if errors.Is(err, ErrNotFound) {
				t.Fatal("unexpected sentinel")
			}
		})
	}
}
