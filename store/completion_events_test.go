package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
)

// TestCompletionEvents: events round-trip, a repeated (completion, event) is stored
// once, and acceptance per group and per hour counts shown, accepted and the time
// between them — on SQLite and PostgreSQL.
func TestCompletionEvents(t *testing.T) {
	now := time.Date(2026, 12, 6, 15, 30, 0, 0, time.UTC)
	for name, db := range storetest.DBs(t, store.WithClock(func() time.Time { return now })) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			ev := db.CompletionEvents()
			k1, k2 := int64(1), int64(2)
			made := now.Add(-2 * time.Hour)
			mk := func(id, event, lang string, key *int64, after time.Duration, chars *int) store.CompletionEvent {
				return store.CompletionEvent{CompletionID: id, Event: event, CreatedAt: made.Add(after), CompletionAt: made,
					LatencyMs: float64(after.Milliseconds()), KeyID: key, Language: lang, Adapter: "autocomplete",
					ModelFamily: "deepseek-coder", AcceptedChars: chars}
			}
			twelve := 12
			batch := []store.CompletionEvent{
				mk("cmpl-a", "shown", "python", &k1, 100*time.Millisecond, nil),
				mk("cmpl-a", "accepted", "python", &k1, 1100*time.Millisecond, &twelve),
				mk("cmpl-b", "shown", "python", &k1, 200*time.Millisecond, nil),
				mk("cmpl-b", "dismissed", "python", &k1, 900*time.Millisecond, nil),
				mk("cmpl-c", "shown", "go", &k2, time.Hour+300*time.Millisecond, nil),
				mk("cmpl-c", "accepted", "go", &k2, time.Hour+3300*time.Millisecond, &twelve),
			}
			if err := ev.InsertBatch(ctx, batch); err != nil {
				t.Fatal(err)
			}
			// The same reports again (a retry): ignored.
			if err := ev.InsertBatch(ctx, batch[:2]); err != nil {
				t.Fatal(err)
			}
			got, err := ev.Of(ctx, "cmpl-a")
			if err != nil || len(got) != 2 || got[1].Event != "accepted" || *got[1].AcceptedChars != 12 || *got[1].KeyID != 1 ||
				!got[0].CompletionAt.Equal(made) || got[1].LatencyMs != 1100 {
				t.Fatalf("events of cmpl-a: %+v, %v", got, err)
			}

			all, err := ev.Acceptance(ctx, store.UsageQuery{Since: made.Add(-time.Hour)}, "")
			if err != nil || len(all) != 1 || all[0].Shown != 3 || all[0].Accepted != 2 || all[0].Dismissed != 1 ||
				all[0].AcceptedChars != 24 || all[0].AcceptMs != 2000 {
				t.Fatalf("acceptance: %+v, %v", all, err)
			}
			byLang, err := ev.Acceptance(ctx, store.UsageQuery{Since: made.Add(-time.Hour)}, "language")
			if err != nil || len(byLang) != 2 || byLang[0].Group != "python" || byLang[0].Rate != 0.5 || byLang[1].Rate != 1 {
				t.Fatalf("acceptance by language: %+v, %v", byLang, err)
			}
			byKey, err := ev.Acceptance(ctx, store.UsageQuery{Since: made.Add(-time.Hour)}, "key_id")
			if err != nil || len(byKey) != 2 || byKey[0].Group != "1" || byKey[1].Group != "2" {
				t.Fatalf("acceptance by key: %+v, %v", byKey, err)
			}
			// Filters: one key, one adapter, one period.
			if k2only, err := ev.Acceptance(ctx, store.UsageQuery{Since: made.Add(-time.Hour), KeyID: 2}, ""); err != nil ||
				len(k2only) != 1 || k2only[0].Shown != 1 || k2only[0].Accepted != 1 || k2only[0].AcceptMs != 3000 {
				t.Fatalf("acceptance of key 2: %+v, %v", k2only, err)
			}
			if none, err := ev.Acceptance(ctx, store.UsageQuery{Since: made.Add(-time.Hour), UserID: -1}, ""); err != nil || len(none) != 0 {
				t.Fatalf("acceptance of nobody: %+v, %v", none, err)
			}
			if other, err := ev.Acceptance(ctx, store.UsageQuery{Since: made.Add(-time.Hour), Adapter: "prompt"}, ""); err != nil || len(other) != 0 {
				t.Fatalf("acceptance of another adapter: %+v, %v", other, err)
			}
			if first, err := ev.Acceptance(ctx, store.UsageQuery{Since: made, Until: made.Add(time.Hour)}, ""); err != nil ||
				len(first) != 1 || first[0].Shown != 2 {
				t.Fatalf("acceptance of the first hour: %+v, %v", first, err)
			}
			if _, err := ev.Acceptance(ctx, store.UsageQuery{Since: made}, "password_hash"); err == nil {
				t.Fatal("acceptance by an unknown column: no error")
			}

			series, err := ev.AcceptanceSeries(ctx, store.UsageQuery{Since: made, Step: time.Hour})
			if err != nil || len(series) != 3 || series[0].Shown != 2 || series[0].Accepted != 1 || series[1].Shown != 1 ||
				series[1].Rate != 1 || series[2].Shown != 0 || !series[0].Start.Equal(made.Truncate(time.Hour)) {
				t.Fatalf("acceptance per hour: %+v, %v", series, err)
			}
			days, err := ev.AcceptanceSeries(ctx, store.UsageQuery{Since: made.Add(-24 * time.Hour), Step: 24 * time.Hour})
			if err != nil || len(days) != 2 || days[1].Shown != 3 {
				t.Fatalf("acceptance per day: %+v, %v", days, err)
			}

			if n, err := ev.DeleteOlderThan(ctx, made.Add(time.Hour)); err != nil || n != 4 {
				t.Fatalf("pruned %d, %v; want the 4 events of the first hour", n, err)
			}
		})
	}
}
