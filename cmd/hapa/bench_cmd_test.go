package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func TestBenchCommandErrors(t *testing.T) {
	getenv := func(string) string { return "" }
	tests := []struct {
		name string
		args []string
		want string
	}{
		{"unknown subcommand", []string{"bench", "soak"}, `unknown bench command "soak" (completion, refproxy, run, suite`},
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

// TestBenchRefProxyCommand serves the reference proxy until the context ends.
func TestBenchRefProxyCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var out syncBuffer
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"bench", "refproxy", "--listen", "127.0.0.1:0", "--upstream", "http://127.0.0.1:1"},
			func(string) string { return "" }, &out)
	}()
	var url string
	for i := 0; i < 200 && url == ""; i++ {
		if _, rest, ok := strings.Cut(out.String(), "reference proxy on "); ok {
			url, _, _ = strings.Cut(rest, " ")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if url == "" {
		t.Fatalf("no address printed: %q", out.String())
	}
	resp, err := http.Post(url+"/api/v1/code/generate", "application/json", strings.NewReader(`{"prompt":"p","max_tokens":2}`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusBadGateway { // the upstream is down
		t.Fatalf("status %d, want 502", resp.StatusCode)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("refproxy ended with %v", err)
	}
	if err := run(context.Background(), []string{"bench", "refproxy", "--listen", "bad address"}, func(string) string { return "" }, &out); err == nil {
		t.Fatal("a bad --listen address was accepted")
	}
}
