package admin

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
)

// BenchmarkUsagePage renders the usage page over a month of synthetic traffic
// (storetest.Traffic: 120 users, 200 keys, 4 adapters, 6 routes, 30 % cache hits):
// HAPA_USAGE_BENCH_ROWS request-log rows (default 20,000; the figure in docs/admin.md
// is for 1,000,000) on a SQLite file and, with TEST_DATABASE_URL, on PostgreSQL. ns/op
// is one whole page: every query, the charts and the HTML.
//
//	HAPA_USAGE_BENCH_ROWS=1000000 TEST_DATABASE_URL=postgres://… go test -run '^$' \
//	    -bench BenchmarkUsagePage -benchtime 10x -timeout 2h ./admin/
func BenchmarkUsagePage(b *testing.B) {
	n := 20_000
	if v, err := strconv.Atoi(os.Getenv("HAPA_USAGE_BENCH_ROWS")); err == nil && v > 0 {
		n = v
	}
	urls := map[string]func() string{"sqlite": func() string { return "sqlite:///" + filepath.Join(b.TempDir(), "usage.db") }}
	if os.Getenv("TEST_DATABASE_URL") != "" {
		urls["postgres"] = func() string { return storetest.PGURL(b) }
	}
	for _, dialect := range []string{"sqlite", "postgres"} {
		open, ok := urls[dialect]
		if !ok {
			continue
		}
		b.Run(dialect, func(b *testing.B) {
			db := storetest.OpenMigrated(b, open())
			start := time.Now()
			keys := storetest.SeedTraffic(b, db, storetest.Traffic{Rows: n, Users: 120, Keys: 200, Span: 30 * 24 * time.Hour, End: time.Now(), Seed: 1})
			b.Logf("%s: %d rows seeded in %v", dialect, n, time.Since(start).Round(time.Second))
			if err := db.Analyze(context.Background()); err != nil {
				b.Fatal(err)
			}
			h, err := New(Config{}, Deps{DB: db})
			if err != nil {
				b.Fatal(err)
			}
			hash := adminHash()
			admin, err := db.Users().Create(context.Background(), store.User{Email: testEmail, Role: store.RoleAdmin, PasswordHash: &hash})
			if err != nil {
				b.Fatal(err)
			}
			e := &env{t: b, db: db, h: h, admin: admin, clock: &clock{t: time.Now()}}
			br := e.browser()
			br.login()
			for _, page := range []struct{ name, url string }{
				{"30d", "/admin/usage?period=30d"},
				{"30d-hourly", "/admin/usage?period=30d&step=hour"},
				{"7d", "/admin/usage?period=7d"},
				{"24h", "/admin/usage?period=24h"},
				{"30d-one-key", "/admin/usage?period=30d&key=" + strconv.FormatInt(keys[0], 10)},
			} {
				b.Run(page.name, func(b *testing.B) {
					for b.Loop() {
						if res := br.get(page.url); res.StatusCode != http.StatusOK {
							b.Fatalf("status %d", res.StatusCode)
						}
					}
					b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/page")
				})
			}
		})
	}
}
