package store

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"testing"
)

func TestOpenSQLiteRelativePathAndPragmas(t *testing.T) {
	t.Chdir(t.TempDir())
	db := openTest(t, "sqlite:///./data/nested/hapa.db")
	if _, err := os.Stat("data/nested/hapa.db"); err != nil {
		t.Fatalf("database file not created: %v", err)
	}
	ctx := context.Background()
	var mode string
	var fk, busy int
	mustNoErr(t, db.x.GetContext(ctx, &mode, `PRAGMA journal_mode`))
	mustNoErr(t, db.x.GetContext(ctx, &fk, `PRAGMA foreign_keys`))
	mustNoErr(t, db.x.GetContext(ctx, &busy, `PRAGMA busy_timeout`))
	if mode != "wal" || fk != 1 || busy != 5000 {
		t.Fatalf("journal_mode %s, foreign_keys %d, busy_timeout %d", mode, fk, busy)
	}
	if db.Dialect() != SQLite {
		t.Fatalf("Dialect = %s", db.Dialect())
	}
	mustNoErr(t, db.Ping(ctx))
}

func TestConcurrentWriters(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		var wg sync.WaitGroup
		errs := make(chan error, 8*10)
		for g := range 8 {
			wg.Go(func() {
				for i := range 10 {
					u, err := db.Users().Create(ctx, User{Email: fmt.Sprintf("u%d-%d@example.com", g, i)})
					if err == nil {
						_, _, err = db.APIKeys().Create(ctx, NewKey{UserID: &u.ID})
					}
					if err == nil {
						err = db.RequestLog().InsertBatch(ctx, []RequestLogRow{{Adapter: "a"}, {Adapter: "b"}})
					}
					errs <- err
				}
			})
		}
		wg.Wait()
		close(errs)
		for err := range errs {
			mustNoErr(t, err)
		}
		_, total, err := db.Users().List(ctx, 1, 0)
		mustNoErr(t, err)
		if total != 80 {
			t.Fatalf("%d users, want 80", total)
		}
	})
}

func TestForeignKeyViolationIsNotFound(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		missing := int64(424242)
		_, _, err := db.APIKeys().Create(context.Background(), NewKey{UserID: &missing})
		if !errors.Is(err, ErrNotFound) {
			t.Fatalf("key for missing user = %v, want ErrNotFound", err)
		}
	})
}
