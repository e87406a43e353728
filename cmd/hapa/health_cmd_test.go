package main

import (
	"bytes"
	"context"
	"net"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
)

func TestHealthAddr(t *testing.T) {
	cases := []struct {
		env  map[string]string
		want string
	}{
		{nil, "127.0.0.1:8000"},
		{map[string]string{"PORT": "9001"}, "127.0.0.1:9001"},
		{map[string]string{"HOST": "0.0.0.0", "PORT": "9002"}, "127.0.0.1:9002"},
		{map[string]string{"HOST": "::"}, "127.0.0.1:8000"},
		{map[string]string{"HOST": "10.1.2.3"}, "10.1.2.3:8000"},
		{map[string]string{"HOST": "::1"}, "[::1]:8000"},
	}
	for _, tc := range cases {
		got, err := healthAddr(env(tc.env), nil)
		if err != nil || got != tc.want {
			t.Errorf("%v: %q %v, want %q", tc.env, got, err, tc.want)
		}
	}
	if got, _ := healthAddr(env(nil), map[string]string{"PORT": "7000"}); got != "127.0.0.1:7000" {
		t.Errorf(".env PORT: %s", got)
	}
	if _, err := healthAddr(env(map[string]string{"PORT": "http"}), nil); err == nil {
		t.Error("a PORT that is no number must be an error")
	}
}

// TestHealthCommand runs `hapa health` against answers of every kind: exit status
// (nil error = 0) and one line of output either way.
func TestHealthCommand(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case "/readyz", "/livez":
			w.Write([]byte(`{"status":"ready"}`))
		case "/health":
			w.Write([]byte(`{"status":"unhealthy","services":{}}`))
		case "/down":
			w.WriteHeader(503)
			w.Write([]byte("{\"status\":\"unavailable\",\n\"database\":\"error\"}"))
		}
	}))
	defer srv.Close()
	host, port, _ := net.SplitHostPort(srv.Listener.Addr().String())

	ok := func(args []string, getenv map[string]string) {
		t.Helper()
		var out bytes.Buffer
		if err := run(context.Background(), append([]string{"health", "--env-file", ""}, args...), env(getenv), &out); err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		if s := out.String(); !strings.HasPrefix(s, "healthy: GET ") || strings.Count(s, "\n") != 1 {
			t.Errorf("%v: output %q", args, s)
		}
	}
	fail := func(args []string, want string) {
		t.Helper()
		var out bytes.Buffer
		err := run(context.Background(), append([]string{"health", "--env-file", ""}, args...), env(nil), &out)
		if err == nil {
			t.Fatalf("%v: healthy, want a failure", args)
		}
		if msg := err.Error(); !strings.Contains(msg, want) || strings.Contains(msg, "\n") {
			t.Errorf("%v: %q, want one line with %q", args, msg, want)
		}
	}
	ok(nil, map[string]string{"HOST": host, "PORT": port})
	ok([]string{"--addr", srv.Listener.Addr().String(), "--path", "livez"}, nil)
	ok([]string{"--url", srv.URL + "/readyz", "--timeout", "2s"}, nil)
	fail([]string{"--url", srv.URL + "/down"}, "503")
	fail([]string{"--url", srv.URL + "/health"}, `status "unhealthy"`)
	fail([]string{"--url", "ftp://x/"}, "not an http(s) URL")
	fail([]string{"--url", srv.URL, "--timeout", "0s"}, "--timeout")

	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closed := ln.Addr().String()
	ln.Close()
	fail([]string{"--addr", closed}, "unhealthy: GET http://"+closed+"/readyz")
}

// TestHealthAgainstServe: the probe against a real gateway, /readyz and /livez.
func TestHealthAgainstServe(t *testing.T) {
	base, _, stop := startServe(t, map[string]string{"DATABASE_URL": "sqlite:///" + filepath.Join(t.TempDir(), "h.db")})
	defer stop()
	_, port, _ := net.SplitHostPort(strings.TrimPrefix(base, "http://"))
	for _, p := range []string{"/readyz", "/livez", "/health"} {
		var out bytes.Buffer
		getenv := env(map[string]string{"PORT": port})
		if err := run(context.Background(), []string{"health", "--env-file", "", "--path", p}, getenv, &out); err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if !strings.Contains(out.String(), "127.0.0.1:"+port+p+": 200") {
			t.Errorf("%s: %q", p, out.String())
		}
	}
	if _, err := strconv.Atoi(port); err != nil {
		t.Fatal(err)
	}
}
