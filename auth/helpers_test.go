package auth

import (
	"sync"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
)

// clock is a settable clock shared by the database and the code under test.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func newClock() *clock { return &clock{t: time.Date(2026, 3, 4, 5, 6, 7, 123_000_000, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// eachDB runs fn on SQLite, and on PostgreSQL when TEST_DATABASE_URL is set, each
// database on its own clock.
func eachDB(t *testing.T, fn func(t *testing.T, db *store.DB, clk *clock)) {
	t.Helper()
	open := map[string]func(t *testing.T) string{
		"sqlite":   func(*testing.T) string { return "sqlite://:memory:" },
		"postgres": func(t *testing.T) string { return storetest.PGURL(t) },
	}
	for _, name := range []string{"sqlite", "postgres"} {
		t.Run(name, func(t *testing.T) {
			clk := newClock()
			fn(t, storetest.OpenMigrated(t, open[name](t), store.WithClock(clk.Now)), clk)
		})
	}
}

func mustNoErr(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}
