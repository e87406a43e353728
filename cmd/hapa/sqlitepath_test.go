package main

import (
	"bytes"
	"context"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestResolveSQLite(t *testing.T) {
	wd, err := os.Getwd()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		url, abs string
		relative bool
		warn     bool
	}{
		{"sqlite:///./data/hapa.db", filepath.Join(wd, "data", "hapa.db"), true, false},
		{"sqlite:///data/hapa.db?_pragma=x", filepath.Join(wd, "data", "hapa.db"), true, false},
		{"sqlite:////var/lib/hapa/hapa.db", "/var/lib/hapa/hapa.db", false, false},
		// The image's old default: three slashes, so relative to the working directory.
		{"sqlite:///var/lib/hapa/hapa.db", filepath.Join(wd, "var", "lib", "hapa", "hapa.db"), true, true},
		{"sqlite:///tmp/x.db", filepath.Join(wd, "tmp", "x.db"), true, true},
	}
	for _, tc := range cases {
		got, ok, err := resolveSQLite(tc.url)
		if err != nil || !ok {
			t.Fatalf("%s: ok=%v err=%v", tc.url, ok, err)
		}
		if got.Abs != tc.abs || got.Relative != tc.relative {
			t.Errorf("%s: abs %s relative %v, want %s %v", tc.url, got.Abs, got.Relative, tc.abs, tc.relative)
		}
		if (got.Warning != "") != tc.warn {
			t.Errorf("%s: warning %q, want one: %v", tc.url, got.Warning, tc.warn)
		}
		if tc.warn && !strings.Contains(got.Warning, "sqlite:////") {
			t.Errorf("%s: the warning should show the four-slash form: %s", tc.url, got.Warning)
		}
	}
	for _, u := range []string{"sqlite://:memory:", "postgres://u@h/db"} {
		if _, ok, err := resolveSQLite(u); ok || err != nil {
			t.Errorf("%s: ok=%v err=%v, want not a file", u, ok, err)
		}
	}
	if _, _, err := resolveSQLite("sqlite://"); err == nil {
		t.Error("sqlite:// without a path must be refused")
	}
}

// TestSQLiteDirectoryProblemsAreOneLine: serve and migrate refuse an absolute path whose
// directory is missing or is a file, with one line that names the absolute path.
func TestSQLiteDirectoryProblemsAreOneLine(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "plain-file")
	if err := os.WriteFile(file, nil, 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct{ url, want string }{
		{"sqlite:///" + filepath.Join(dir, "missing", "hapa.db"), filepath.Join(dir, "missing") + " of the SQLite file"},
		{"sqlite:///" + filepath.Join(file, "hapa.db"), "is not a directory"},
	}
	for _, tc := range cases {
		for _, cmd := range []string{"serve", "migrate"} {
			var out bytes.Buffer
			err := run(context.Background(), []string{cmd, "--env-file", "", "--host", "127.0.0.1", "--port", "0"},
				env(map[string]string{"DATABASE_URL": tc.url, "STRUCTURED_LOGGING": "false"}), &out)
			if err == nil {
				t.Fatalf("%s with %s started", cmd, tc.url)
			}
			if msg := err.Error(); !strings.Contains(msg, tc.want) || strings.Contains(msg, "\n") || !strings.HasPrefix(msg, "DATABASE_URL: ") {
				t.Errorf("%s %s: %q, want one line with %q", cmd, tc.url, msg, tc.want)
			}
		}
		if _, err := os.Stat(filepath.Join(dir, "missing")); err == nil {
			t.Fatal("the missing directory was created")
		}
	}
}

// TestServeLogsTheSQLiteFile: the start-up log names the absolute file, and a relative
// path that looks meant as absolute is warned about (the file is still opened where the
// URL says: relative to the working directory).
func TestServeLogsTheSQLiteFile(t *testing.T) {
	dir := t.TempDir()
	t.Chdir(dir)
	_, _, stop := startServe(t, map[string]string{"DATABASE_URL": "sqlite:///tmp/hapa.db"})
	logs := stop()
	want := filepath.Join(dir, "tmp", "hapa.db")
	if !strings.Contains(logs, "msg=database sqlite="+want) {
		t.Errorf("no start-up line naming %s:\n%s", want, logs)
	}
	if !strings.Contains(logs, "level=WARN") || !strings.Contains(logs, "sqlite:////tmp/hapa.db") {
		t.Errorf("no warning about the three-slash path:\n%s", logs)
	}
	if _, err := os.Stat(want); err != nil {
		t.Errorf("database not at %s: %v", want, err)
	}

	out := mustRun(t, "sqlite:///"+filepath.Join(dir, "abs.db"), "migrate")
	if !strings.Contains(out, "sqlite file "+filepath.Join(dir, "abs.db")) || strings.Contains(out, "warning") {
		t.Errorf("migrate output:\n%s", out)
	}
}

// TestServeUnreachableDatabaseIsAnError: a database that cannot be opened ends serve
// with an error, not a panic in the clean-up of the half-built app.
func TestServeUnreachableDatabaseIsAnError(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	err = run(context.Background(), []string{"serve", "--env-file", "", "--host", "127.0.0.1", "--port", "0"},
		env(map[string]string{"DATABASE_URL": "postgres://postgres@" + addr + "/x?sslmode=disable&connect_timeout=2"}), &bytes.Buffer{})
	if err == nil || !strings.Contains(err.Error(), addr) {
		t.Fatalf("err = %v", err)
	}
}
