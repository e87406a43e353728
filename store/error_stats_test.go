package store

import (
	"context"
	"testing"
	"time"
)

func TestErrorFigures(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		now := time.Now().UTC().Truncate(time.Second)
		at := func(m int) time.Time { return now.Add(-time.Duration(m) * time.Minute) }
		mustNoErr(t, db.RequestLog().InsertBatch(ctx, []RequestLogRow{
			{CreatedAt: at(1), RequestID: "ok", Status: 200},
			{CreatedAt: at(2), RequestID: "cancel-1", Status: StatusCancelled},
			{CreatedAt: at(3), RequestID: "cancel-2", Status: StatusCancelled},
			{CreatedAt: at(4), RequestID: "down", Status: 503, ErrorCode: "E5005"},
			{CreatedAt: at(5), RequestID: "long", Status: 422, ErrorCode: "E4008"},
			{CreatedAt: at(6), RequestID: "bare", Status: 404},
			{CreatedAt: at(7), RequestID: "old", Status: 500, ErrorCode: "E5004"}, // before the window
		}))
		for _, in := range []Incident{
			{ID: "INC-1", Code: "E5005", CreatedAt: at(4), RequestID: "down"}, // the row's own: not again
			{ID: "INC-2", Code: "E5003", CreatedAt: at(2), RequestID: "users-me"},
			{ID: "INC-3", Code: "E5003", CreatedAt: at(3)},
			{ID: "INC-4", Code: "E5001", CreatedAt: at(90)},
		} {
			_, err := db.Incidents().Insert(ctx, in)
			mustNoErr(t, err)
		}
		ce := db.ClientErrors()
		mustNoErr(t, ce.Add(ctx, []ClientErrorCount{{Minute: at(2), Code: "E4003", Count: 3}, {Minute: at(2), Code: "E4004", Count: 1}}))
		mustNoErr(t, ce.Add(ctx, []ClientErrorCount{{Minute: at(2), Code: "E4003", Count: 2}})) // another replica, same minute
		mustNoErr(t, ce.Add(ctx, []ClientErrorCount{{Minute: at(120), Code: "E4003", Count: 7}}))
		got, err := ce.Since(ctx, at(10))
		mustNoErr(t, err)
		if len(got) != 2 || got[0].Code != "E4003" || got[0].Count != 5 || !got[0].Minute.Equal(at(2).Truncate(time.Minute)) {
			t.Fatalf("client errors %+v", got)
		}

		since := at(6).Add(-30 * time.Second)
		counts := func(f ErrorFigures) map[string]int {
			m := map[string]int{}
			for _, c := range f.Codes {
				k := c.Code
				if k == "" {
					k = "status " + string(rune('0'+c.Status/100))
				}
				m[k] += c.Count
			}
			return m
		}
		all, err := db.ErrorFigures(ctx, since, ClassAll)
		mustNoErr(t, err)
		// Request log: 6 rows, 2 cancels, 3 failed (E5005, E4008, a bare 404).
		// Elsewhere: incidents INC-2 and INC-3 (E5003), 6 client errors.
		if all.Requests != 6 || all.Cancelled != 2 || all.Failed != 3 || all.ClientErrors != 8 || all.ServerErrors != 3 {
			t.Fatalf("figures %+v", all)
		}
		if m := counts(all); len(m) != 6 || m["E5005"] != 1 || m["E5003"] != 2 || m["E4008"] != 1 || m["status 4"] != 1 ||
			m["E4003"] != 5 || m["E4004"] != 1 {
			t.Fatalf("codes %v", m)
		}
		for _, c := range all.Codes {
			if c.Code == "E5003" && (!c.First.Equal(at(3)) || !c.Last.Equal(at(2))) {
				t.Errorf("E5003 seen %v … %v", c.First, c.Last)
			}
		}
		client, err := db.ErrorFigures(ctx, since, ClassClient)
		mustNoErr(t, err)
		if m := counts(client); client.Failed != 2 || len(m) != 4 || m["E5005"] != 0 || client.ClientErrors != 8 {
			t.Fatalf("4xx: %+v %v", client, m)
		}
		server, err := db.ErrorFigures(ctx, since, ClassServer)
		mustNoErr(t, err)
		if m := counts(server); server.Failed != 1 || len(m) != 2 || m["E5003"] != 2 || m["E5005"] != 1 {
			t.Fatalf("5xx: %+v %v", server, m)
		}
		if _, ok := ParseErrorClass("3xx"); ok {
			t.Error("3xx accepted")
		}
		if c, ok := ParseErrorClass(""); !ok || c != ClassAll {
			t.Error("empty class is not all")
		}

		n, err := ce.DeleteOlderThan(ctx, at(60))
		mustNoErr(t, err)
		if n != 1 {
			t.Fatalf("pruned %d", n)
		}
	})
}

func TestRequestLogCancelsAreNotErrors(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		base := time.Now().UTC().Truncate(time.Minute).Add(-10 * time.Minute)
		uid := int64(3)
		rows := []RequestLogRow{
			{CreatedAt: base, Adapter: "a", Status: 200, LatencyMs: 10, UserID: &uid},
			{CreatedAt: base.Add(time.Second), Adapter: "a", Status: StatusCancelled, LatencyMs: 20, UserID: &uid},
			{CreatedAt: base.Add(2 * time.Minute), Adapter: "a", Status: 502, ErrorCode: "E5006", LatencyMs: 30},
			{CreatedAt: base.Add(3 * time.Minute), Adapter: "b", Status: StatusCancelled, LatencyMs: 40},
		}
		mustNoErr(t, db.RequestLog().InsertBatch(ctx, rows))
		if !rows[1].Cancelled() || rows[1].Failed() || !rows[2].Failed() || rows[0].Failed() {
			t.Fatal("row outcome helpers")
		}
		sum, err := db.RequestLog().Summary(ctx, base, "")
		mustNoErr(t, err)
		if sum.Total.Requests != 4 || sum.Total.Errors != 1 || sum.Total.Cancelled != 2 ||
			sum.ByAdapter[0].Cancelled != 1 || sum.ByAdapter[1].Errors != 0 || sum.ByAdapter[1].Cancelled != 1 {
			t.Fatalf("summary %+v", sum)
		}
		mine, err := db.RequestLog().Stats(ctx, LogFilter{Since: base, Until: base.Add(time.Minute), UserID: uid})
		mustNoErr(t, err)
		if mine.Total.Requests != 2 || mine.Total.Errors != 0 || mine.Total.Cancelled != 1 || mine.Total.P99LatencyMs != 20 {
			t.Fatalf("user's stats %+v", mine.Total)
		}
		buckets, err := db.RequestLog().Buckets(ctx, LogFilter{Since: base}, base.Add(5*time.Minute), 2*time.Minute)
		mustNoErr(t, err)
		if len(buckets) != 3 || buckets[0].Requests != 2 || buckets[0].Cancelled != 1 || buckets[0].Failed != 0 ||
			buckets[1].Requests != 2 || buckets[1].Failed != 1 || buckets[1].Cancelled != 1 || buckets[2].Requests != 0 {
			t.Fatalf("buckets %+v", buckets)
		}
	})
}
