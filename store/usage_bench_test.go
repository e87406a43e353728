package store_test

import (
	"context"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
)

// BenchmarkUsageQueries times the usage rollup's queries over a month of synthetic
// traffic: HAPA_USAGE_BENCH_ROWS rows (default 100,000) on SQLite and, with
// TEST_DATABASE_URL, PostgreSQL. The admin package's BenchmarkUsagePage times the
// whole page (docs/admin.md, "Usage").
func BenchmarkUsageQueries(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("HAPA_USAGE_BENCH_ROWS")); err == nil && v > 0 {
		n = v
	}
	end := time.Now().UTC()
	for name, open := range benchDBs(b) {
		b.Run(name, func(b *testing.B) {
			var db *store.DB
			var keys []int64
			seed := sync.OnceFunc(func() {
				db = open()
				start := time.Now()
				keys = storetest.SeedTraffic(b, db, storetest.Traffic{Rows: n, Users: 120, Keys: 200, Span: 30 * 24 * time.Hour, End: end, Seed: 1})
				b.Logf("%s: seeded %d rows in %v", name, n, time.Since(start).Round(time.Millisecond))
			})
			month := store.UsageQuery{Since: end.Add(-30 * 24 * time.Hour).Truncate(24 * time.Hour), Until: end, Step: 24 * time.Hour}
			ctx := context.Background()
			for qname, run := range map[string]func() error{
				"series-30d-daily":  func() error { _, _, err := db.Usage().Series(ctx, month); return err },
				"series-30d-hourly": func() error { q := month; q.Step = time.Hour; _, _, err := db.Usage().Series(ctx, q); return err },
				"top-keys-30d":      func() error { _, err := db.Usage().Top(ctx, month, "key", 10); return err },
				"top-users-30d":     func() error { _, err := db.Usage().Top(ctx, month, "user", 10); return err },
				"by-route-30d":      func() error { _, err := db.Usage().Top(ctx, month, "route", 0); return err },
				"one-key-30d-daily": func() error { q := month; q.KeyID = keys[3]; _, _, err := db.Usage().Series(ctx, q); return err },
			} {
				b.Run(qname, func(b *testing.B) {
					seed()
					for b.Loop() {
						if err := run(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}

// benchDBs opens, on first use, a migrated database per dialect the benchmark can
// reach: a SQLite file and, with TEST_DATABASE_URL, PostgreSQL.
func benchDBs(b *testing.B) map[string]func() *store.DB {
	dbs := map[string]func() *store.DB{
		"sqlite": func() *store.DB {
			return storetest.OpenMigrated(b, "sqlite:///"+filepath.Join(b.TempDir(), "bench.db"))
		},
	}
	if os.Getenv("TEST_DATABASE_URL") != "" {
		dbs["postgres"] = func() *store.DB { return storetest.OpenMigrated(b, storetest.PGURL(b)) }
	}
	return dbs
}
