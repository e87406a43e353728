package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
)

// TestRequestLogInsertMissing: a retry of rows a failed write may have stored writes
// only those that are not there, on SQLite and PostgreSQL.
func TestRequestLogInsertMissing(t *testing.T) {
	at := time.Date(2026, 12, 6, 10, 0, 0, 123e6, time.UTC)
	for name, db := range storetest.DBs(t) {
		t.Run(name, func(t *testing.T) {
			ctx := context.Background()
			rl := db.RequestLog()
			row := func(id, route string, ms int) store.RequestLogRow {
				return store.RequestLogRow{CreatedAt: at.Add(time.Duration(ms) * time.Millisecond), RequestID: id, Route: route, Status: 200, TokensOut: 5}
			}
			first := []store.RequestLogRow{row("req_a", "POST /x", 0), row("req_b", "POST /x", 1), row("ses_1/c1", "WS completion.create", 2)}
			if err := rl.InsertBatch(ctx, first); err != nil {
				t.Fatal(err)
			}
			again := append(first, row("req_c", "POST /x", 3), row("ses_1/c1", "WS completion.create", 900), row("", "POST /x", 4))
			written, err := rl.InsertMissing(ctx, again)
			if err != nil || len(written) != 3 || written[0].RequestID != "req_c" || written[1].CreatedAt.Sub(at) != 900*time.Millisecond {
				t.Fatalf("written %+v, %v; want req_c, the later ses_1/c1 and the row without an id", written, err)
			}
			if n, err := rl.Count(ctx, at.Add(-time.Hour)); err != nil || n != 6 {
				t.Fatalf("%d rows, %v; want 6", n, err)
			}
		})
	}
}
