package store

import (
	"context"
	"errors"
	"regexp"
	"testing"
	"time"
)

func TestIncidents(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		clk := newClock()
		db.now = clk.Now
		is := db.Incidents()
		start := clk.Now()
		var first Incident
		for i, code := range []string{"E5001", "E5001", "E5002", "E5001"} {
			in, err := is.Insert(ctx, Incident{Code: code, Path: "/api/v1/code/generate", Message: "boom", HTTPStatus: 500})
			mustNoErr(t, err)
			if i == 0 {
				first = in
			}
			clk.Add(10 * time.Minute)
		}
		if !regexp.MustCompile(`^INC-20260304-[0-9A-F]{8}$`).MatchString(first.ID) || first.Status != IncidentOpen {
			t.Fatalf("incident %+v", first)
		}
		if _, err := is.Insert(ctx, first); !errors.Is(err, ErrConflict) {
			t.Fatalf("duplicate incident = %v", err)
		}
		got, err := is.Get(ctx, first.ID)
		mustNoErr(t, err)
		if got != first {
			t.Fatalf("Get = %+v, want %+v", got, first)
		}
		mustNoErr(t, is.SetStatus(ctx, first.ID, IncidentResolved))
		if err := is.SetStatus(ctx, "INC-x", IncidentResolved); !errors.Is(err, ErrNotFound) {
			t.Fatalf("SetStatus(missing) = %v", err)
		}
		recent, err := is.Recent(ctx, 2)
		mustNoErr(t, err)
		if len(recent) != 2 || recent[0].Code != "E5001" || recent[1].Code != "E5002" {
			t.Fatalf("Recent = %+v", recent)
		}
		counts, err := is.CountByCode(ctx, start.Add(time.Minute))
		mustNoErr(t, err)
		if counts["E5001"] != 2 || counts["E5002"] != 1 {
			t.Fatalf("CountByCode = %v", counts)
		}
		buckets, err := is.Buckets(ctx, start, 20*time.Minute) // now = start+40m: 2 buckets
		mustNoErr(t, err)
		if b := buckets["E5001"]; len(b) != 2 || b[0] != 2 || b[1] != 1 {
			t.Fatalf("Buckets = %v", buckets)
		}
		if b := buckets["E5002"]; len(b) != 2 || b[0] != 0 || b[1] != 1 {
			t.Fatalf("Buckets = %v", buckets)
		}
		spans, err := is.FirstLast(ctx)
		mustNoErr(t, err)
		if s := spans["E5001"]; !s.First.Equal(start) || !s.Last.Equal(start.Add(30*time.Minute)) || s.Count != 3 {
			t.Fatalf("FirstLast = %+v", spans)
		}
		total, err := is.Total(ctx)
		mustNoErr(t, err)
		pruned, err := is.DeleteOlderThan(ctx, start.Add(15*time.Minute))
		mustNoErr(t, err)
		left, err := is.Total(ctx)
		mustNoErr(t, err)
		if total != 4 || pruned != 2 || left != 2 {
			t.Fatalf("total %d, pruned %d, left %d", total, pruned, left)
		}
	})
}
