package main

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hapa-project/hapa/vllm/sim"
)

// haproxyConfig is the load balancer of docs/operations.md ("Load balancers"): health
// checks on /readyz, which a replica fails as soon as it drains, and a retry on
// another server for a request whose connection failed or got no answer.
const haproxyConfig = `global
    maxconn 4096
defaults
    mode http
    timeout connect 2s
    timeout client  60s
    timeout server  60s
    timeout tunnel  1h
    option redispatch
    retries 3
    retry-on conn-failure empty-response response-timeout
frontend hapa
    bind 127.0.0.1:%d
    default_backend replicas
backend replicas
    balance roundrobin
    option httpchk GET /readyz
    http-check expect status 200
    default-server inter 300ms fall 2 rise 2
%s`

// TestRollingRestartBehindHAProxy: three replicas behind HAProxy (Debian's package),
// restarted one after the other under steady load, lose no request.
func TestRollingRestartBehindHAProxy(t *testing.T) {
	bin := os.Getenv("HAPA_HAPROXY") // set by .ci/run: then a missing haproxy fails the test
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("haproxy"); err != nil {
			t.Skip("haproxy not installed (.ci/run installs it and sets HAPA_HAPROXY)")
		}
	}
	c := newCluster(t, clusterOpts{n: 3, fixed: true, noRedis: true, sim: sim.Config{TTFT: 2 * time.Millisecond, ITL: time.Millisecond},
		env: map[string]string{"SHUTDOWN_DRAIN_DELAY": "1500ms", "SHUTDOWN_TIMEOUT": "5s", "RATE_LIMIT_ENABLED": "false"}})
	key, _ := c.key("rolling", 0)

	var servers strings.Builder
	for _, r := range c.replicas {
		fmt.Fprintf(&servers, "    server %s 127.0.0.1:%d check\n", r.name, r.port)
	}
	front := freePort(t)
	cfg := filepath.Join(t.TempDir(), "haproxy.cfg")
	if err := os.WriteFile(cfg, []byte(fmt.Sprintf(haproxyConfig, front, servers.String())), 0o600); err != nil {
		t.Fatal(err)
	}
	lb := exec.Command(bin, "-db", "-f", cfg)
	var lbLog syncBuffer
	lb.Stdout, lb.Stderr = &lbLog, &lbLog
	if err := lb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = lb.Process.Kill(); _ = lb.Wait() })
	url := "http://127.0.0.1:" + strconv.Itoa(front)
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if conn, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(front)); err == nil {
			conn.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("haproxy did not listen:\n%s", lbLog.String())
		}
	}

	var sent, failed atomic.Int64
	var mu sync.Mutex
	var failures []string
	stop := make(chan struct{})
	var wg sync.WaitGroup
	client := &http.Client{Timeout: 20 * time.Second}
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				case <-time.After(20 * time.Millisecond):
				}
				req, _ := http.NewRequest("POST", url+"/api/v1/code/generate",
					strings.NewReader(fmt.Sprintf(`{"prompt":"rolling %d %d","max_tokens":8,"temperature":0.9}`, w, i)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-API-Key", key)
				sent.Add(1)
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				if err != nil || resp.StatusCode != 200 {
					failed.Add(1)
					mu.Lock()
					failures = append(failures, fmt.Sprintf("%v %v", err, resp))
					mu.Unlock()
				}
			}
		}()
	}
	time.Sleep(time.Second) // steady state
	began := time.Now()
	for i := range c.replicas {
		c.restart(i)
		time.Sleep(time.Second) // HAProxy sees it up again (rise 2 × 300 ms)
	}
	took := time.Since(began)
	close(stop)
	wg.Wait()
	t.Logf("rolling restart of 3 replicas behind HAProxy in %.1f s: %d requests, %d failed", took.Seconds(), sent.Load(), failed.Load())
	if failed.Load() != 0 || sent.Load() < 100 {
		t.Fatalf("%d of %d requests failed: %v\n%s", failed.Load(), sent.Load(), failures, lbLog.String())
	}
}
