package main

import (
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"strings"
	"testing"
)

// TestLibraryLogsAreJSON: go-redis's lines (through the adapter routeLibraryLogs
// installs) and an HTTP server's own errors (ErrorLog set by addListener) come out as
// JSON records of the process logger, at WARN.
func TestLibraryLogsAreJSON(t *testing.T) {
	var buf syncBuffer
	a := &app{log: slog.New(slog.NewJSONHandler(&buf, nil))}
	redisLogger{a.log}.Printf(context.Background(), "redis: connection pool: failed to dial after %d attempts: %v", 5, "connection refused")
	a.logErrors(&http.Server{}).ErrorLog.Printf("http: TLS handshake error from %s: EOF", "127.0.0.1:5555")
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines: %q", len(lines), buf.String())
	}
	want := []string{"redis: connection pool: failed to dial after 5 attempts: connection refused", "http: TLS handshake error from 127.0.0.1:5555: EOF"}
	for i, l := range lines {
		var rec struct{ Level, Msg, Component string }
		if err := json.Unmarshal([]byte(l), &rec); err != nil || rec.Level != "WARN" || rec.Msg != want[i] {
			t.Errorf("line %d: %s (%v)", i, l, err)
		}
		if i == 0 && rec.Component != "go-redis" {
			t.Errorf("go-redis line without its component: %s", l)
		}
	}
}
