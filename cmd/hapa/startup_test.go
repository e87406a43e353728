package main

import (
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

// TestStartupErrorsAreOneLine: a start that cannot succeed — the port taken, the
// database unreachable, PostgreSQL's TLS root certificate missing — ends with exit
// code 1 and one line on stderr, never a panic.
func TestStartupErrorsAreOneLine(t *testing.T) {
	busy, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer busy.Close()
	port := strconv.Itoa(busy.Addr().(*net.TCPAddr).Port)
	dir := t.TempDir()
	cases := []struct {
		name string
		env  []string
		want string
	}{
		{"port in use", []string{"PORT=" + port, "DATABASE_URL=sqlite:///" + filepath.Join(dir, "a.db")}, "address already in use"},
		{"database unreachable", []string{"DATABASE_URL=postgres://hapa@127.0.0.1:1/hapa?sslmode=disable&connect_timeout=2"}, "127.0.0.1:1"},
		{"TLS root certificate missing", []string{"DATABASE_URL=postgres://hapa@127.0.0.1:5432/hapa?sslmode=verify-full&sslrootcert=" + filepath.Join(dir, "none.pem")}, "none.pem"},
		{"database directory missing", []string{"DATABASE_URL=sqlite:////nonexistent-dir/hapa.db"}, "nonexistent-dir"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(os.Args[0], "-test.run=^$")
			cmd.Env = append(os.Environ(), childEnv+"=serve --env-file /dev/null", "HOST=127.0.0.1", "PORT=0", "STRUCTURED_LOGGING=true")
			cmd.Env = append(cmd.Env, tc.env...)
			var stderr strings.Builder
			cmd.Stderr = &stderr
			err := cmd.Run()
			var exit *exec.ExitError
			if !errors.As(err, &exit) || exit.ExitCode() != 1 {
				t.Fatalf("exit: %v; stderr %s", err, stderr.String())
			}
			msg := strings.TrimSpace(stderr.String())
			if strings.Count(msg, "\n") != 0 || strings.Contains(msg, "panic") || strings.Contains(msg, "goroutine") ||
				!strings.HasPrefix(msg, "hapa: ") || !strings.Contains(msg, tc.want) {
				t.Fatalf("stderr %q: want one line naming %q", msg, tc.want)
			}
			t.Logf("%s: %s", tc.name, msg)
		})
	}
}
