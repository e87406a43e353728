package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime/ws/wsclient"
)

// syncBuffer is a bytes.Buffer safe for the server's logger and the test's reads.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
	n  int // Write calls
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.n++
	return s.b.Write(p)
}

func (s *syncBuffer) writes() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.n
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// startServe runs `hapa serve` in-process on a free loopback port and returns its base
// URL, its log so far, and a stop function that waits for a clean shutdown.
func startServe(t *testing.T, vars map[string]string) (string, *syncBuffer, func() string) {
	t.Helper()
	all := map[string]string{"HOST": "127.0.0.1", "PORT": "0", "STRUCTURED_LOGGING": "false",
		"SIM_TTFT": "1ms", "SIM_ITL": "0s", "SHUTDOWN_TIMEOUT": "3s"}
	for k, v := range vars {
		all[k] = v
	}
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "--env-file", ""}, env(all), out) }()
	addr := regexp.MustCompile(`msg=listening server=main addr=(http://\S+)`)
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m := addr.FindStringSubmatch(out.String()); m != nil {
			stop := func() string {
				cancel()
				select {
				case err := <-done:
					if err != nil {
						t.Errorf("serve returned %v", err)
					}
				case <-time.After(10 * time.Second):
					t.Error("serve did not stop")
				}
				return out.String()
			}
			return m[1], out, stop
		}
		select {
		case err := <-done:
			t.Fatalf("serve exited early: %v\n%s", err, out)
		default:
		}
		if time.Now().After(deadline) {
			cancel()
			t.Fatalf("serve did not listen:\n%s", out)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func call(t *testing.T, method, url, key, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if key != "" {
		req.Header.Set("X-API-Key", key)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	_ = json.Unmarshal(b, &m)
	return resp.StatusCode, m
}

// TestServeEndToEnd is the first-run path of the README: a fresh SQLite file, the built-in
// simulator, a key made with `hapa keys create`, used, revoked, refused with E4007.
func TestServeEndToEnd(t *testing.T) {
	dbURL := "sqlite:///" + filepath.Join(t.TempDir(), "hapa.db")
	base, _, stop := startServe(t, map[string]string{"DATABASE_URL": dbURL, "API_KEY_CACHE_TTL": "50ms"})

	status, health := call(t, "GET", base+"/health", "", "")
	if status != 200 || health["version"] == nil {
		t.Fatalf("health %d %v", status, health)
	}
	if s := health["services"].(map[string]any); s["ai_model"] != "simulator" || s["database"] != "connected" {
		t.Fatalf("services %v", s)
	}

	out := mustRun(t, dbURL, "keys", "create", "--scopes", "code_generation,code_completion", "--expires-in", "30d")
	key := regexp.MustCompile(`hapa_[A-Za-z0-9]{32,}`).FindString(out)
	id := regexp.MustCompile(`id (\d+)`).FindStringSubmatch(out)[1]

	gen := `{"prompt":"write a function that adds two numbers","model_type":"code_generation"}`
	status, res := call(t, "POST", base+"/api/v1/code/generate", key, gen)
	if status != 200 || res["generated_code"] == "" {
		t.Fatalf("generate %d %v", status, res)
	}

	ws, err := wsclient.Dial(context.Background(), strings.Replace(base, "http", "ws", 1)+"/api/v1/realtime", key, nil)
	if err != nil {
		t.Fatal(err)
	}
	st, err := ws.Complete(context.Background(), wsclient.CompletionCreate{Prefix: "def add(a, b):\n    "})
	if err != nil {
		t.Fatal(err)
	}
	r, err := st.Collect(context.Background())
	if err != nil || r.Done == nil || r.Text == "" {
		t.Fatalf("completion over the socket: %v %+v", err, r)
	}

	mustRun(t, dbURL, "keys", "revoke", id)
	var code any
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		status, res = call(t, "POST", base+"/api/v1/code/generate", key, gen)
		if status == 401 {
			code = res["error_code"]
			break
		}
	}
	if code != "E4007" {
		t.Fatalf("after revoke: %d %v", status, res)
	}
	ws.Close()
	logs := stop()
	if strings.Contains(logs, key) {
		t.Fatal("the API key appeared in the logs")
	}
}

func TestServeRefusesBadConfig(t *testing.T) {
	// A bad flag fails at once, naming the flag and its variable; bad environment values
	// are listed together (TestConfigListsEveryProblem).
	for _, tc := range []struct{ flag, value, want string }{
		{"--port", "99999", "PORT: 99999 is out of range"},
		{"--cache-scope", "team", `CACHE_SCOPE: "team" is not one of global, key`},
		{"--shutdown-timeout", "soon", "SHUTDOWN_TIMEOUT"},
		{"--rate-limit-enabled", "maybe", "RATE_LIMIT_ENABLED"},
	} {
		err := run(context.Background(), []string{"serve", "--env-file", "", tc.flag + "=" + tc.value}, env(nil), io.Discard)
		if err == nil || !strings.Contains(err.Error(), tc.flag) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s %s: err = %v", tc.flag, tc.value, err)
		}
	}
	err := run(context.Background(), []string{"serve", "--env-file", ""}, env(map[string]string{"PORT": "99999", "CACHE_SCOPE": "team"}), io.Discard)
	if err == nil || !strings.Contains(err.Error(), "PORT") || !strings.Contains(err.Error(), "CACHE_SCOPE") {
		t.Fatalf("err = %v", err)
	}
	var out bytes.Buffer
	if err := run(context.Background(), []string{"serve", "--env-file", "", "--print-config", "--secret-key", "0123456789abcdef0123456789abcdef"}, env(nil), &out); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "SECRET_KEY") || strings.Contains(out.String(), "0123456789abcdef") {
		t.Fatalf("print-config:\n%s", out.String())
	}
}

// TestServeMetricsAddr: with METRICS_ADDR, /metrics leaves the main port.
func TestServeMetricsAddr(t *testing.T) {
	dbURL := "sqlite:///" + filepath.Join(t.TempDir(), "m.db")
	base, out, stop := startServe(t, map[string]string{"DATABASE_URL": dbURL, "METRICS_ADDR": "127.0.0.1:0"})
	defer stop()
	if status, _ := call(t, "GET", base+"/metrics", "", ""); status != 404 {
		t.Fatalf("main port still serves /metrics: %d", status)
	}
	logs := out.String() // every listener is logged before the main one's address is read
	m := regexp.MustCompile(`server=metrics addr=(http://\S+)`).FindStringSubmatch(logs)
	if m == nil {
		t.Fatalf("no metrics listener in the logs:\n%s", logs)
	}
	resp, err := http.Get(m[1] + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "hapa_requests_total") {
		t.Fatalf("metrics listener: %d", resp.StatusCode)
	}
}

// TestServePprofAddr: PPROF_ADDR serves Go's profiles on its own listener only.
func TestServePprofAddr(t *testing.T) {
	dbURL := "sqlite:///" + filepath.Join(t.TempDir(), "p.db")
	base, out, stop := startServe(t, map[string]string{"DATABASE_URL": dbURL, "PPROF_ADDR": "127.0.0.1:0"})
	defer stop()
	if status, _ := call(t, "GET", base+"/debug/pprof/", "", ""); status != 404 {
		t.Fatalf("main port serves /debug/pprof/: %d", status)
	}
	m := regexp.MustCompile(`server=pprof addr=(http://\S+)`).FindStringSubmatch(out.String())
	if m == nil {
		t.Fatalf("no pprof listener in the logs:\n%s", out.String())
	}
	resp, err := http.Get(m[1] + "/debug/pprof/goroutine?debug=1")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(b), "goroutine profile:") {
		t.Fatalf("pprof listener: %d %.200s", resp.StatusCode, b)
	}
}
