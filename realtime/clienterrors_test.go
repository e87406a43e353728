package realtime

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
)

var _ ClientErrorStore = (*store.ClientErrors)(nil)

// flakyStore fails its first write, then passes writes on.
type flakyStore struct {
	next  ClientErrorStore
	fails int
}

func (f *flakyStore) Add(ctx context.Context, c []store.ClientErrorCount) error {
	if f.fails > 0 {
		f.fails--
		return errors.New("database away")
	}
	return f.next.Add(ctx, c)
}

func TestClientErrorTally(t *testing.T) {
	for name, db := range storetest.DBs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			st := &flakyStore{next: db.ClientErrors(), fails: 1}
			tally := NewClientErrorTally(ClientErrorConfig{}, st, nil)
			minute := time.Date(2026, 3, 1, 10, 4, 0, 0, time.UTC)
			tally.now = func() time.Time { return minute.Add(30 * time.Second) }
			for _, c := range []Code{CodeInvalidKey, CodeInvalidKey, CodeRateLimited, CodeInternal, "E4999", "bogus"} {
				tally.Count(c)
			}
			if err := tally.Flush(ctx); err == nil {
				t.Fatal("the failed write was not reported")
			}
			tally.Count(CodeInvalidKey) // counted while the first batch waits
			if err := tally.Flush(ctx); err != nil {
				t.Fatal(err)
			}
			got, err := db.ClientErrors().Since(ctx, minute.Add(-time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != 2 || got[0].Code != "E4003" || got[0].Count != 3 || !got[0].Minute.Equal(minute) ||
				got[1].Code != "E4004" || got[1].Count != 1 {
				t.Fatalf("stored %+v", got)
			}
			if err := tally.Flush(ctx); err != nil { // nothing new: nothing written
				t.Fatal(err)
			}
			if got, _ := db.ClientErrors().Since(ctx, minute); len(got) != 2 || got[0].Count != 3 {
				t.Fatalf("an empty flush changed %+v", got)
			}
		})
	}
}

func TestClientErrorTallyBounds(t *testing.T) {
	db := storetest.OpenMigrated(t, "sqlite://:memory:")
	off := NewClientErrorTally(ClientErrorConfig{Disabled: true}, db.ClientErrors(), nil)
	off.Count(CodeInvalidKey)
	if len(off.pending) != 0 {
		t.Fatal("a disabled tally counted")
	}
	small := NewClientErrorTally(ClientErrorConfig{MaxPending: 1}, db.ClientErrors(), nil)
	small.Count(CodeInvalidKey)
	small.Count(CodeInvalidKey)
	small.Count(CodeRateLimited) // a second key: over the bound
	if len(small.pending) != 1 || small.dropped != 1 {
		t.Fatalf("pending %v, dropped %d", small.pending, small.dropped)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error)
	go func() { done <- small.Run(ctx) }()
	cancel() // Run flushes once more on its way out
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if got, _ := db.ClientErrors().Since(context.Background(), time.Time{}); len(got) != 1 || got[0].Count != 2 {
		t.Fatalf("after Run: %+v", got)
	}
}
