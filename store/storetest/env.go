package storetest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/redis/go-redis/v9"

	"github.com/hapa-project/hapa/store"
)

// RandomHex returns 12 random hex digits, for names that must not collide between
// concurrent test runs on one server.
func RandomHex(t testing.TB) string {
	b := make([]byte, 6)
	if _, err := rand.Read(b); err != nil {
		t.Fatal(err)
	}
	return hex.EncodeToString(b)
}

// Redis returns a client of TEST_REDIS_URL and a random key prefix ("hapatest:<hex>:")
// whose keys are deleted when the test ends.
func Redis(t testing.TB) (*redis.Client, string) {
	t.Helper()
	u := RedisURL(t)
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("TEST_REDIS_URL: %v", err)
	}
	c := redis.NewClient(opt)
	prefix := "hapatest:" + RandomHex(t) + ":"
	t.Cleanup(func() {
		ctx := context.Background()
		var keys []string
		iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		if len(keys) > 0 {
			c.Del(ctx, keys...)
		}
		c.Close()
	})
	return c, prefix
}

// RedisURL returns TEST_REDIS_URL after checking that the server answers.
func RedisURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("TEST_REDIS_URL")
	if u == "" {
		t.Skip("TEST_REDIS_URL not set")
	}
	opt, err := redis.ParseURL(u)
	if err != nil {
		t.Fatalf("TEST_REDIS_URL: %v", err)
	}
	c := redis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		t.Fatalf("TEST_REDIS_URL unreachable: %v", err)
	}
	return u
}

// DBs returns a fresh migrated SQLite database, and a PostgreSQL one in a throwaway
// schema when TEST_DATABASE_URL is set, keyed by dialect.
func DBs(t testing.TB, opts ...store.Option) map[string]*store.DB {
	t.Helper()
	out := map[string]*store.DB{"sqlite": OpenMigrated(t, "sqlite://:memory:", opts...)}
	if base := os.Getenv("TEST_DATABASE_URL"); base != "" {
		out["postgres"] = OpenMigrated(t, PGSchema(t, base), opts...)
	}
	return out
}

// OpenMigrated opens the database at u, migrates it and closes it when the test ends.
func OpenMigrated(t testing.TB, u string, opts ...store.Option) *store.DB {
	t.Helper()
	ctx := context.Background()
	db, err := store.Open(ctx, u, opts...)
	if err != nil {
		t.Fatalf("open %s: %v", u, err)
	}
	t.Cleanup(func() { db.Close() })
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return db
}

// PGURL returns a URL of a throwaway schema on TEST_DATABASE_URL, or skips the test
// when that is unset.
func PGURL(t testing.TB) string {
	t.Helper()
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		t.Skip("TEST_DATABASE_URL not set")
	}
	return PGSchema(t, base)
}

// PGSchema creates schema t_<random> on the server of base, drops it when the test
// ends, and returns base with search_path set to it.
func PGSchema(t testing.TB, base string) string {
	t.Helper()
	admin, err := sqlx.Open("postgres", base)
	if err != nil {
		t.Fatalf("TEST_DATABASE_URL: %v", err)
	}
	schema := "t_" + RandomHex(t)
	if _, err := admin.Exec("CREATE SCHEMA " + schema); err != nil {
		admin.Close()
		t.Fatalf("TEST_DATABASE_URL unreachable or unusable: %v", err)
	}
	t.Cleanup(func() {
		admin.Exec("DROP SCHEMA " + schema + " CASCADE")
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

// WaitFor polls cond every 10 ms until it holds, failing the test after 10 s.
func WaitFor(t testing.TB, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}
