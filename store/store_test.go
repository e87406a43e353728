package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
)

// testBackend opens a fresh, empty database of one kind.
type testBackend struct {
	name string
	open func(t *testing.T, opts ...Option) *DB
}

// backends lists SQLite (file and :memory:) always, and PostgreSQL when
// TEST_DATABASE_URL is set. Each open gets its own database: a temp file, a
// private :memory: or a throwaway schema, so parallel runs never share state.
func backends(t *testing.T) []testBackend {
	t.Helper()
	bs := []testBackend{
		{"sqlite-file", func(t *testing.T, opts ...Option) *DB {
			return openTest(t, "sqlite:///"+filepath.Join(t.TempDir(), "sub", "hapa.db"), opts...)
		}},
		{"sqlite-memory", func(t *testing.T, opts ...Option) *DB {
			return openTest(t, "sqlite://:memory:", opts...)
		}},
	}
	if base := os.Getenv("TEST_DATABASE_URL"); base != "" {
		bs = append(bs, testBackend{"postgres", func(t *testing.T, opts ...Option) *DB {
			return openTest(t, pgSchemaURL(t, base), opts...)
		}})
	}
	return bs
}

func openTest(t *testing.T, rawURL string, opts ...Option) *DB {
	t.Helper()
	db, err := Open(context.Background(), rawURL, opts...)
	if err != nil {
		t.Fatalf("Open(%s): %v", rawURL, err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// pgSchemaURL creates schema t_<random> in the TEST_DATABASE_URL database,
// drops it when the test ends, and returns a URL whose search_path is it. An
// unreachable database fails the test: CI must not silently skip.
func pgSchemaURL(t *testing.T, base string) string {
	t.Helper()
	admin, err := sqlx.Open("postgres", base)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	schema := "t_" + randHex(t, 8)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := admin.ExecContext(ctx, "CREATE SCHEMA "+schema); err != nil {
		admin.Close()
		t.Fatalf("TEST_DATABASE_URL unreachable or unusable: %v", err)
	}
	t.Cleanup(func() {
		if _, err := admin.Exec("DROP SCHEMA " + schema + " CASCADE"); err != nil {
			t.Errorf("drop schema %s: %v", schema, err)
		}
		admin.Close()
	})
	u, err := url.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

func randHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// eachDB runs fn once per backend on a freshly migrated database.
func eachDB(t *testing.T, fn func(t *testing.T, db *DB)) {
	t.Helper()
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) {
			t.Parallel()
			db := b.open(t)
			if _, err := db.Migrate(context.Background()); err != nil {
				t.Fatalf("Migrate: %v", err)
			}
			fn(t, db)
		})
	}
}

// fixedClock is a settable, goroutine-safe test clock.
type fixedClock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *fixedClock {
	return &fixedClock{t: time.Date(2026, 3, 4, 5, 6, 7, 123_000_000, time.UTC)}
}

func (c *fixedClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *fixedClock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

func mustNoErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
func readDirNames(fsys fs.FS, dir string) ([]string, error) {
	es, err := fs.ReadDir(fsys, dir)
	var out []string
	for _, e := range es {
		out = append(out, e.Name())
	}
	return out, err
}
