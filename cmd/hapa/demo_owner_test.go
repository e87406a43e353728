package main

import (
	"context"
	"log/slog"
	"testing"

	"github.com/hapa-project/hapa/store"
)

// TestDemoKeyHasAnOwner: the demo key belongs to demo@localhost, also when a start
// before this one made it without an owner, and provisioning twice changes nothing.
func TestDemoKeyHasAnOwner(t *testing.T) {
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	orphan, err := db.APIKeys().CreateWithPlaintext(ctx, demoKey, store.NewKey{Name: "demo", Scopes: store.Scopes{store.ScopeHistory}})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{DemoAPIKey: true}
	for range 2 {
		if err := provision(ctx, cfg, db, slog.New(slog.DiscardHandler)); err != nil {
			t.Fatal(err)
		}
	}
	k, err := db.APIKeys().ByID(ctx, orphan.ID)
	if err != nil {
		t.Fatal(err)
	}
	if k.UserID == nil || k.OwnerEmail != demoEmail {
		t.Fatalf("demo key owner %v %q", k.UserID, k.OwnerEmail)
	}
	if _, n, _ := db.APIKeys().List(ctx, store.KeyFilter{}); n != 1 {
		t.Fatalf("%d keys", n)
	}
}
