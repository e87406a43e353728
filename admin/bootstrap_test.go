package admin

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/hapa-project/hapa/store"
)

func TestEnsureAdmin(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	if err := EnsureAdmin(ctx, db, "", &out); err != nil {
		t.Fatal(err)
	}
	line := out.String()
	_, after, ok := strings.Cut(line, "with password ")
	if !ok || !strings.Contains(line, DefaultAdminEmail) {
		t.Fatalf("output %q", line)
	}
	password, _, _ := strings.Cut(after, "\n")
	u, err := db.Users().ByEmail(ctx, DefaultAdminEmail)
	if err != nil || u.Role != store.RoleAdmin || u.PasswordHash == nil {
		t.Fatalf("admin %+v, %v", u, err)
	}
	if ok, err := store.VerifyPassword(*u.PasswordHash, password); !ok || err != nil || len(password) != 20 {
		t.Fatalf("printed password %q does not verify: %v", password, err)
	}
	// With an admin present nothing changes and no password is printed again.
	out.Reset()
	if err := EnsureAdmin(ctx, db, "another-password", &out); err != nil || out.String() != adminExists+"\n" {
		t.Fatalf("second run: %v, %q", err, out.String())
	}
	if n, _ := db.Users().CountAdmins(ctx); n != 1 {
		t.Fatalf("%d admins", n)
	}
}

func TestCreateAdminValidation(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	db, err := store.Open(ctx, "sqlite://:memory:")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct{ email, password string }{{"not-an-email", "long enough pw"}, {"a@example.com", "short"}} {
		if _, err := CreateAdmin(ctx, db, tt.email, tt.password); err == nil {
			t.Errorf("CreateAdmin(%q, %q) accepted", tt.email, tt.password)
		}
	}
	if n, _ := db.Users().CountAdmins(ctx); n != 0 {
		t.Fatalf("%d admins after refusals", n)
	}
}

func TestGeneratePassword(t *testing.T) {
	t.Parallel()
	seen := map[string]bool{}
	for range 50 {
		p := GeneratePassword()
		if len(p) != 20 || strings.ContainsAny(p, "0O1lI") || seen[p] {
			t.Fatalf("password %q", p)
		}
		seen[p] = true
	}
}
