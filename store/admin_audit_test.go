package store

import (
	"context"
	"testing"
	"time"
)

func TestAuditLog(t *testing.T) {
	eachDB(t, func(t *testing.T, db *DB) {
		ctx := context.Background()
		a := db.AuditLog()
		base := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
		for i, e := range []AuditEntry{
			{Actor: "root@example.com", ActorID: 1, Action: "key.create", Target: "key:1", IP: "192.0.2.1"},
			{Actor: "root@example.com", ActorID: 1, Action: "key.revoke", Target: "key:1", Detail: "prefix hapa_abc"},
			{Actor: "ops@example.com", ActorID: 2, Action: "user.disable", Target: "user:7"},
			{Actor: "ops@example.com", ActorID: 2, Action: "key_x.create", Target: "key:2"}, // "_" is no wildcard
		} {
			e.CreatedAt = base.Add(time.Duration(i) * time.Minute)
			mustNoErr(t, a.Add(ctx, e))
		}
		// Two entries in the same millisecond page apart by id.
		mustNoErr(t, a.Add(ctx, AuditEntry{CreatedAt: base.Add(3 * time.Minute), Actor: "ops@example.com", Action: "login"}))

		all, err := a.List(ctx, AuditFilter{})
		mustNoErr(t, err)
		if len(all) != 5 || all[0].Action != "login" || all[4].Action != "key.create" || all[4].IP != "192.0.2.1" {
			t.Fatalf("all: %+v", all)
		}
		keys, err := a.List(ctx, AuditFilter{Action: "key."})
		mustNoErr(t, err)
		if len(keys) != 2 || keys[0].Action != "key.revoke" {
			t.Fatalf("key.*: %+v", keys)
		}
		one, err := a.List(ctx, AuditFilter{Target: "key:1", Actor: "root@example.com", Action: "key.revoke"})
		mustNoErr(t, err)
		if len(one) != 1 || one[0].Detail != "prefix hapa_abc" {
			t.Fatalf("one: %+v", one)
		}
		// Keyset pages: two at a time, no entry twice or missing.
		var seen []int64
		var cur Cursor
		for {
			page, err := a.List(ctx, AuditFilter{Before: cur, Limit: 2})
			mustNoErr(t, err)
			if len(page) == 0 {
				break
			}
			for _, e := range page {
				seen = append(seen, e.ID)
			}
			last := page[len(page)-1]
			c, ok := ParseCursor(Cursor{At: last.CreatedAt, ID: last.ID}.String())
			if !ok {
				t.Fatal("cursor does not round-trip")
			}
			cur = c
		}
		if len(seen) != 5 {
			t.Fatalf("paged through %v", seen)
		}
		actors, err := a.Actors(ctx)
		mustNoErr(t, err)
		if len(actors) != 2 || actors[0] != "ops@example.com" {
			t.Fatalf("actors %v", actors)
		}
		n, err := a.DeleteOlderThan(ctx, base.Add(2*time.Minute))
		mustNoErr(t, err)
		if n != 2 {
			t.Fatalf("pruned %d", n)
		}
	})
}

func TestParseCursor(t *testing.T) {
	for _, bad := range []string{"", "x", "12", "-1-2", "12-0", "12-x", "a-3"} {
		if _, ok := ParseCursor(bad); ok {
			t.Errorf("ParseCursor(%q) accepted", bad)
		}
	}
	c := Cursor{At: time.UnixMilli(1700000000123).UTC(), ID: 42}
	if got, ok := ParseCursor(c.String()); !ok || got != c {
		t.Fatalf("round trip %v → %v", c, got)
	}
}
