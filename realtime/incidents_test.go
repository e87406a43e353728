package realtime

import (
	"context"
	"errors"
	"regexp"
	"sync"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
)

var incidentIDRe = regexp.MustCompile(`^INC-\d{8}-[0-9A-F]{8}$`)

type countingIncidentObserver struct{ n int }

func (c *countingIncidentObserver) Incident(Code) { c.n++ }

func TestIncidentRecorder(t *testing.T) {
	for name, db := range storetest.DBs(t) {
		t.Run(name, func(t *testing.T) {
			obs := &countingIncidentObserver{}
			r := NewIncidentRecorder(IncidentConfig{}, IncidentDeps{Store: db.Incidents(), Observer: obs})
			e := Wrap(CodeModelUnavailable, errors.New("no healthy replica: 3 ejected"))
			id := r.Record(context.Background(), e, "/api/v1/code/generate", "req-1")
			if !incidentIDRe.MatchString(id) || id[4:12] != time.Now().UTC().Format("20060102") {
				t.Fatalf("id %q: want INC-<today UTC>-XXXXXXXX", id)
			}
			if id2 := r.Record(context.Background(), e, "/x", "req-2"); id2 == id {
				t.Fatal("two incidents share an id")
			}
			ctx, cancel := context.WithCancel(context.Background())
			cancel() // Run drains the queue and returns
			if err := r.Run(ctx); err != nil {
				t.Fatal(err)
			}
			got, err := db.Incidents().Get(context.Background(), id)
			if err != nil {
				t.Fatalf("stored incident: %v", err)
			}
			if got.Code != "E5005" || got.Path != "/api/v1/code/generate" || got.RequestID != "req-1" ||
				got.Message != "AI model unavailable" || got.Detail != "no healthy replica: 3 ejected" ||
				got.Status != store.IncidentOpen || got.HTTPStatus != 503 {
				t.Errorf("stored %+v", got)
			}
			if st := r.Stats(); st.Written != 2 || obs.n != 2 {
				t.Errorf("stats %+v, observed %d", st, obs.n)
			}
		})
	}
}

func TestIncidentRecorderDisabled(t *testing.T) {
	db := storetest.OpenMigrated(t, "sqlite://:memory:")
	r := NewIncidentRecorder(IncidentConfig{Disabled: true}, IncidentDeps{Store: db.Incidents()})
	if id := r.Record(context.Background(), NewError(CodeInternal, ""), "/", ""); id != "" {
		t.Fatalf("disabled recorder returned %q", id)
	}
	if n, _ := db.Incidents().Total(context.Background()); n != 0 {
		t.Fatalf("disabled recorder stored %d rows", n)
	}
}

func TestIncidentRecorderQueueFull(t *testing.T) {
	db := storetest.OpenMigrated(t, "sqlite://:memory:")
	r := NewIncidentRecorder(IncidentConfig{Queue: 1}, IncidentDeps{Store: db.Incidents()})
	// Run is not running: the second incident finds the queue full, still gets an id.
	for i := 0; i < 2; i++ {
		if id := r.Record(context.Background(), NewError(CodeInternal, ""), "/", ""); !incidentIDRe.MatchString(id) {
			t.Fatalf("id %q", id)
		}
	}
	if st := r.Stats(); st.Dropped != 1 || st.Queued != 1 {
		t.Fatalf("stats %+v", st)
	}
}

func TestRetention(t *testing.T) {
	for name, db := range storetest.DBs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			now := time.Now().UTC()
			for _, age := range []time.Duration{time.Hour, 29 * 24 * time.Hour, 31 * 24 * time.Hour, 90 * 24 * time.Hour} {
				if _, err := db.Incidents().Insert(ctx, store.Incident{Code: "E5004", CreatedAt: now.Add(-age)}); err != nil {
					t.Fatal(err)
				}
			}
			rows := []store.RequestLogRow{{CreatedAt: now.Add(-time.Hour)}, {CreatedAt: now.Add(-8 * 24 * time.Hour)}}
			if err := db.RequestLog().InsertBatch(ctx, rows); err != nil {
				t.Fatal(err)
			}
			r := NewRetention(RetentionConfig{IncidentDays: 30, RequestLogDays: 7}, db.Incidents(), db.RequestLog(), nil)
			if !r.LastCleanup().IsZero() {
				t.Fatal("LastCleanup set before any run")
			}
			if err := r.Clean(ctx); err != nil {
				t.Fatal(err)
			}
			if n, _ := db.Incidents().Total(ctx); n != 2 {
				t.Errorf("incidents left %d, want 2 (older than 30 days deleted)", n)
			}
			if n, _ := db.RequestLog().Count(ctx, time.Time{}); n != 1 {
				t.Errorf("request_log rows left %d, want 1", n)
			}
			if lc := r.LastCleanup(); time.Since(lc) > time.Minute {
				t.Errorf("LastCleanup = %v", lc)
			}
		})
	}
}

// flakyIncidents fails every insert while down.
type flakyIncidents struct {
	mu   sync.Mutex
	down bool
	got  []store.Incident
	hits int
}

func (f *flakyIncidents) Insert(ctx context.Context, in store.Incident) (store.Incident, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.hits++
	if f.down {
		return in, errors.New("database down")
	}
	f.got = append(f.got, in)
	return in, nil
}

// TestIncidentsSpoolThroughAnOutage: while the database fails, incidents go to the
// spool without each waiting on it (one try per backoff, not per incident), and are
// written once it answers again. Before, a black-holed database made each insert wait
// and the queue dropped most incidents of an outage.
func TestIncidentsSpoolThroughAnOutage(t *testing.T) {
	sp, err := store.OpenSpool(t.TempDir(), 1<<20)
	if err != nil {
		t.Fatal(err)
	}
	st := &flakyIncidents{down: true}
	r := NewIncidentRecorder(IncidentConfig{Queue: 8}, IncidentDeps{Store: st, Spool: sp})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = r.Run(ctx) }()
	for range 200 {
		r.Record(ctx, NewError(CodeDatabaseError, ""), "/x", "req")
		time.Sleep(100 * time.Microsecond)
	}
	waitEngine(t, "incidents spooled", func() bool { n, _ := sp.Len(); return n+r.Stats().Dropped == 200 })
	st.mu.Lock()
	tries := st.hits
	st.down = false
	st.mu.Unlock()
	if s := r.Stats(); s.Dropped > 20 || tries > 10 {
		t.Fatalf("%d dropped, %d database tries for 200 incidents in the outage", s.Dropped, tries)
	}
	waitEngine(t, "incidents written", func() bool { n, _ := sp.Len(); return n == 0 })
	cancel()
	<-done
	st.mu.Lock()
	defer st.mu.Unlock()
	if int64(len(st.got))+r.Stats().Dropped != 200 {
		t.Fatalf("%d written + %d dropped, want 200", len(st.got), r.Stats().Dropped)
	}
	t.Logf("200 incidents in an outage: %d database tries, %d dropped, all others written after it", tries, r.Stats().Dropped)
}
