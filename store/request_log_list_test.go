package store

import (
	"context"
	"errors"
	"testing"
	"time"
)

func TestRequestLogList(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		base := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
		k1, k2, u1 := int64(1), int64(2), int64(7)
		rows := []RequestLogRow{
			{RequestID: "r0", KeyID: &k1, UserID: &u1, Route: "POST /a", Adapter: "prompt", Status: 200, Upstream: "http://v1"},
			{RequestID: "r1", KeyID: &k1, UserID: &u1, Route: "POST /a", Adapter: "prompt", Status: 200, Cached: true},
			{RequestID: "r2", KeyID: &k2, Route: "POST /b", Adapter: "completion", Status: 429, ErrorCode: "E4009"},
			{RequestID: "r3", KeyID: &k2, Route: "POST /b", Adapter: "completion", Status: 504, ErrorCode: "E5001", Upstream: "http://v2"},
			{RequestID: "r4", KeyID: &k2, Route: "WS completion", Adapter: "completion", Status: 499, Coalesced: true},
			{RequestID: "r5", KeyID: &k2, Route: "POST /b", Adapter: "completion", Status: 200, ErrorCode: "E5006"},
		}
		for i := range rows {
			rows[i].CreatedAt = base.Add(time.Duration(i) * time.Minute)
		}
		rows = append(rows, RequestLogRow{CreatedAt: base.Add(5 * time.Minute), RequestID: "r6", Status: 200}) // same time as r5
		mustNoErr(t, db.RequestLog().InsertBatch(ctx, rows))
		yes, no := true, false
		ids := func(f RequestFilter) string {
			t.Helper()
			got, err := db.RequestLog().List(ctx, f)
			mustNoErr(t, err)
			s := ""
			for _, r := range got {
				s += r.RequestID[1:]
			}
			return s
		}
		for name, tc := range map[string]struct {
			f    RequestFilter
			want string
		}{
			"all, newest first": {RequestFilter{}, "6543210"},
			"since/until":       {RequestFilter{Since: base.Add(time.Minute), Until: base.Add(3 * time.Minute)}, "21"},
			"key":               {RequestFilter{KeyID: 1}, "10"},
			"user":              {RequestFilter{UserID: 7}, "10"},
			"route":             {RequestFilter{Route: "POST /b"}, "532"},
			"adapter":           {RequestFilter{Adapter: "completion"}, "5432"},
			"upstream":          {RequestFilter{Upstream: "http://v2"}, "3"},
			"status":            {RequestFilter{Status: 429}, "2"},
			"class ok":          {RequestFilter{Class: RequestsOK}, "610"},
			"class cancelled":   {RequestFilter{Class: RequestsCancelled}, "4"},
			"class 4xx":         {RequestFilter{Class: Requests4xx}, "2"},
			"class 5xx":         {RequestFilter{Class: Requests5xx}, "53"},
			"error code":        {RequestFilter{ErrorCode: "E5001"}, "3"},
			"cached":            {RequestFilter{Cached: &yes}, "1"},
			"not coalesced":     {RequestFilter{Coalesced: &no, KeyID: 2}, "532"},
			"request id":        {RequestFilter{RequestID: "r3"}, "3"},
			"limit":             {RequestFilter{Limit: 2}, "65"},
		} {
			if got := ids(tc.f); got != tc.want {
				t.Errorf("%s: %s, want %s", name, got, tc.want)
			}
		}
		// Keyset pages of two, over rows sharing a created_at.
		got := ""
		var cur Cursor
		for range 10 {
			page, err := db.RequestLog().List(ctx, RequestFilter{Before: cur, Limit: 2})
			mustNoErr(t, err)
			if len(page) == 0 {
				break
			}
			for _, r := range page {
				got += r.RequestID[1:]
			}
			cur = Cursor{At: page[len(page)-1].CreatedAt, ID: page[len(page)-1].ID}
		}
		if got != "6543210" {
			t.Fatalf("paged %s", got)
		}
		one, err := db.RequestLog().ByRequestID(ctx, "r0")
		mustNoErr(t, err)
		if len(one) != 1 || one[0].Upstream != "http://v1" || *one[0].UserID != 7 {
			t.Fatalf("by request id %+v", one)
		}
		r, err := db.RequestLog().ByID(ctx, one[0].ID)
		mustNoErr(t, err)
		if r.RequestID != "r0" || !r.CreatedAt.Equal(base) {
			t.Fatalf("by id %+v", r)
		}
		if _, err := db.RequestLog().ByID(ctx, 9999); !errors.Is(err, ErrNotFound) {
			t.Fatalf("missing row: %v", err)
		}
		last, err := db.RequestLog().LastRequests(ctx, []int64{1, 2, 3, 0, 1})
		mustNoErr(t, err)
		if len(last) != 2 || !last[1].Equal(base.Add(time.Minute)) || !last[2].Equal(base.Add(5*time.Minute)) {
			t.Fatalf("last requests %v", last)
		}
	})
}
