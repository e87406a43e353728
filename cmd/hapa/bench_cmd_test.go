package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func TestBenchCommandErrors(t *testing.T) {
	getenv := func(string) string { return "" }
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"no subcommand", []string{"bench"}, "usage: hapa bench run|suite"},
		{"unknown subcommand", []string{"bench", "soak"}, `unknown subcommand "soak"`},
		{"unknown mode", []string{"bench", "run", "--mode", "grpc"}, `unknown --mode "grpc"`},
		{"bad rounds", []string{"bench", "run", "--rounds", "0"}, "--rounds and --duration must be positive"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := run(context.Background(), tt.args, getenv, &bytes.Buffer{})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want %q", err, tt.want)
			}
		})
	}
}

// TestBenchRunREST runs a tiny closed loop against a stand-in for the one-shot route.
func TestBenchRunREST(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/code/generate" || r.Header.Get("X-API-Key") != "k" {
			http.Error(w, `{"error_code":"E4011"}`, http.StatusNotFound)
			return
		}
		fmt.Fprint(w, `{"success":true,"token_usage":{"completion_tokens":3}}`)
	}))
	defer srv.Close()
	var out bytes.Buffer
	args := []string{"bench", "run", "--url", srv.URL, "--key", "k", "--mode", "rest", "--concurrency", "2", "--duration", "100ms"}
	if err := run(context.Background(), args, func(string) string { return "" }, &out); err != nil {
		t.Fatalf("bench run: %v\n%s", err, out.String())
	}
	if !strings.Contains(out.String(), "errors: 0") || !strings.Contains(out.String(), "latency p50") {
		t.Fatalf("unexpected output:\n%s", out.String())
	}
}
