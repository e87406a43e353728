package store_test

import (
	"context"
	"fmt"
	"os"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
)

// BenchmarkCompletionAcceptance times the acceptance queries the usage page and API
// run (docs/admin.md, "Usage") over a month of completion feedback:
// HAPA_ACCEPTANCE_BENCH_COMPLETIONS completions (default 100,000; each shown, a third
// accepted, half the rest dismissed) on SQLite and, with TEST_DATABASE_URL, PostgreSQL.
func BenchmarkCompletionAcceptance(b *testing.B) {
	n := 100_000
	if v, err := strconv.Atoi(os.Getenv("HAPA_ACCEPTANCE_BENCH_COMPLETIONS")); err == nil && v > 0 {
		n = v
	}
	end := time.Now().UTC()
	langs := []string{"python", "typescript", "go", "rust", "java", "c"}
	for name, open := range benchDBs(b) {
		b.Run(name, func(b *testing.B) {
			var db *store.DB
			seed := sync.OnceFunc(func() {
				db = open()
				start := time.Now()
				span := 30 * 24 * time.Hour
				var batch []store.CompletionEvent
				for i := range n {
					made := end.Add(-span * time.Duration(i) / time.Duration(n))
					key, user := int64(1+i%200), int64(1+i%120)
					ev := func(event string, after time.Duration) store.CompletionEvent {
						return store.CompletionEvent{CompletionID: fmt.Sprintf("cmpl-%07d", i), Event: event, CreatedAt: made.Add(after),
							CompletionAt: made, LatencyMs: float64(after.Milliseconds()), KeyID: &key, UserID: &user,
							Language: langs[i%len(langs)], Adapter: "autocomplete", ModelFamily: "deepseek-coder"}
					}
					batch = append(batch, ev("shown", 100*time.Millisecond))
					switch i % 6 {
					case 0, 3:
						batch = append(batch, ev("accepted", time.Second))
					case 1, 4:
						batch = append(batch, ev("dismissed", 2*time.Second))
					}
					if len(batch) >= 1000 || i == n-1 {
						if err := db.CompletionEvents().InsertBatch(context.Background(), batch); err != nil {
							b.Fatal(err)
						}
						batch = batch[:0]
					}
				}
				b.Logf("%s: seeded %d completions in %v", name, n, time.Since(start).Round(time.Millisecond))
			})
			month := store.UsageQuery{Since: end.Add(-30 * 24 * time.Hour).Truncate(24 * time.Hour), Until: end, Step: 24 * time.Hour}
			ctx := context.Background()
			for _, q := range []struct {
				name string
				run  func() error
			}{
				{"total-30d", func() error { _, err := db.CompletionEvents().Acceptance(ctx, month, ""); return err }},
				{"by-language-30d", func() error { _, err := db.CompletionEvents().Acceptance(ctx, month, "language"); return err }},
				{"by-key-30d", func() error { _, err := db.CompletionEvents().Acceptance(ctx, month, "key_id"); return err }},
				{"series-30d-daily", func() error { _, err := db.CompletionEvents().AcceptanceSeries(ctx, month); return err }},
				{"one-key-30d", func() error {
					q := month
					q.KeyID = 7
					_, err := db.CompletionEvents().Acceptance(ctx, q, "")
					return err
				}},
			} {
				b.Run(q.name, func(b *testing.B) {
					seed()
					for b.Loop() {
						if err := q.run(); err != nil {
							b.Fatal(err)
						}
					}
				})
			}
		})
	}
}
