package main

import (
	"bytes"
	"context"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// runCLI runs the binary's run function with a private SQLite file.
func runCLI(t *testing.T, dbURL string, args ...string) (string, error) {
	t.Helper()
	var out bytes.Buffer
	getenv := env(map[string]string{"DATABASE_URL": dbURL})
	err := run(context.Background(), append(args, "--env-file", ""), getenv, &out)
	return out.String(), err
}

func TestKeysCLI(t *testing.T) {
	dbURL := "sqlite:///" + filepath.Join(t.TempDir(), "hapa.db")
	out, err := runCLI(t, dbURL, "keys", "create", "--scopes", "code_generation", "--expires-in", "30d", "--user", "dev@example.com")
	if err != nil {
		t.Fatalf("create: %v\n%s", err, out)
	}
	key := regexp.MustCompile(`hapa_[A-Za-z0-9]{32,}`).FindString(out)
	if key == "" {
		t.Fatalf("no key printed:\n%s", out)
	}
	out, err = runCLI(t, dbURL, "keys", "list")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out, key) {
		t.Fatal("list must not show the key itself")
	}
	if !strings.Contains(out, "active") || !strings.Contains(out, "dev@example.com") {
		t.Fatalf("list:\n%s", out)
	}
	id := regexp.MustCompile(`id (\d+)`).FindStringSubmatch(mustRun(t, dbURL, "keys", "create", "--name", "second"))[1]
	if out, err = runCLI(t, dbURL, "keys", "revoke", id); err != nil || !strings.Contains(out, "revoked") {
		t.Fatalf("revoke: %v %s", err, out)
	}
	out = mustRun(t, dbURL, "keys", "list", "--status", "revoked")
	if !strings.Contains(out, "1 keys") {
		t.Fatalf("revoked list:\n%s", out)
	}

	bad := []struct {
		name string
		args []string
		want string
	}{
		{"unknown scope", []string{"keys", "create", "--scopes", "root"}, "unknown scope"},
		{"bad expiry", []string{"keys", "create", "--expires-in", "soon"}, "expires-in"},
		{"revoke missing", []string{"keys", "revoke", "999"}, "not found"},
		{"unknown sub", []string{"keys", "rotate-all"}, "unknown keys command"},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			_, err := runCLI(t, dbURL, tc.args...)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want %q", err, tc.want)
			}
		})
	}
}

func mustRun(t *testing.T, dbURL string, args ...string) string {
	t.Helper()
	out, err := runCLI(t, dbURL, args...)
	if err != nil {
		t.Fatalf("%v: %v\n%s", args, err, out)
	}
	return out
}

func TestMigrateAndVersion(t *testing.T) {
	dbURL := "sqlite:///" + filepath.Join(t.TempDir(), "m.db")
	out := mustRun(t, dbURL, "migrate", "--status")
	pending := regexp.MustCompile(`(?m)^pending +(\d{4}_\w+\.sql) +-$`).FindAllStringSubmatch(out, -1)
	if len(pending) < 5 || pending[0][1] != "0001_accounts.sql" || !strings.Contains(out, "pending: run hapa migrate") {
		t.Fatalf("status of a fresh database lists every migration as pending:\n%s", out)
	}
	if out := mustRun(t, dbURL, "migrate"); !strings.Contains(out, "applied 0001") {
		t.Fatalf("migrate:\n%s", out)
	}
	if out := mustRun(t, dbURL, "migrate"); !strings.Contains(out, "up to date") {
		t.Fatalf("second migrate:\n%s", out)
	}
	out = mustRun(t, dbURL, "migrate", "--status")
	applied := regexp.MustCompile(`(?m)^applied +(\d{4}_\w+\.sql) +\d{4}-\d\d-\d\dT`).FindAllStringSubmatch(out, -1)
	if len(applied) != len(pending) || strings.Contains(out, "pending ") || !strings.Contains(out, "up to date") {
		t.Fatalf("status after migrate lists every migration as applied (%d of %d):\n%s", len(applied), len(pending), out)
	}
	for _, args := range [][]string{{"version"}, {"--version"}, {"-v"}} {
		var out bytes.Buffer
		if err := run(context.Background(), args, env(nil), &out); err != nil || !strings.HasPrefix(out.String(), "hapa ") {
			t.Fatalf("%v: %v %q", args, err, out.String())
		}
	}
	var buf bytes.Buffer
	if err := run(context.Background(), []string{"frobnicate"}, env(nil), &buf); err == nil || !strings.Contains(err.Error(), "hapa --help") {
		t.Fatalf("unknown command must fail and point at the help: %v", err)
	}
	_, err := runCLI(t, "mysql://x", "migrate")
	if err == nil || !strings.Contains(err.Error(), "DATABASE_URL") {
		t.Fatalf("bad scheme: %v", err)
	}
}

func TestAdminCreateUser(t *testing.T) {
	dbURL := "sqlite:///" + filepath.Join(t.TempDir(), "a.db")
	out := mustRun(t, dbURL, "admin", "create-user", "--email", "ops@example.com")
	if !strings.Contains(out, "created admin ops@example.com") || !strings.Contains(out, "password: ") {
		t.Fatalf("create-user:\n%s", out)
	}
	out = mustRun(t, dbURL, "admin", "create-user", "--email", "ops@example.com", "--password", "correct horse battery")
	if !strings.Contains(out, "updated") || strings.Contains(out, "password: ") {
		t.Fatalf("reset:\n%s", out)
	}
	if _, err := runCLI(t, dbURL, "admin", "create-user", "--email", "x@example.com", "--password", "short"); err == nil {
		t.Fatal("short password must fail")
	}
}
