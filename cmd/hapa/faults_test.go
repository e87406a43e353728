package main

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/hapa-project/hapa/vllm/sim"
)

// The fault suite (docs/operations.md, "Failure modes"): a real `hapa serve` process,
// one dependency broken at a time. Each scenario asserts what clients see, and logs the
// figures the docs quote. Redis faults are in faults_redis_test.go.

// upstreamPair starts two simulated vLLM replicas and returns them with their servers.
func upstreamPair(t *testing.T, cfg sim.Config) ([2]*sim.Server, [2]*httptest.Server) {
	t.Helper()
	var sims [2]*sim.Server
	var srvs [2]*httptest.Server
	for i := range 2 {
		sims[i] = sim.New(cfg)
		srvs[i] = httptest.NewServer(sims[i])
		t.Cleanup(srvs[i].Close)
	}
	return sims, srvs
}

// generate sends one one-shot generation and returns its status.
func generate(t *testing.T, url, key, prompt string) int {
	t.Helper()
	resp := request(t, "POST", url+"/api/v1/code/generate",
		map[string]any{"prompt": prompt, "max_tokens": 20, "temperature": 0.9}, "X-API-Key", key)
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestFaultVLLMReplica: with two vLLM replicas, one dying before the first token costs
// clients nothing (failover); one dying after the first token ends the streams it was
// serving with an error event (no retry after the first byte: the text already sent
// would be repeated), and the next requests go to the other replica.
func TestFaultVLLMReplica(t *testing.T) {
	sims, srvs := upstreamPair(t, sim.Config{Seed: 5, TTFT: 300 * time.Millisecond, ITL: 20 * time.Millisecond})
	c := newCluster(t, clusterOpts{n: 1, noRedis: true, env: map[string]string{
		"VLLM_SERVER_URL": srvs[0].URL + "," + srvs[1].URL, "RATE_LIMIT_ENABLED": "false"}})
	r := c.replicas[0]
	key, _ := c.key("failover", 0)

	// Before the first token: replica 0 hangs and then drops every request.
	sims[0].SetFaults(sim.Faults{HangBeforeFirstToken: true})
	var failed atomic.Int64
	var wg sync.WaitGroup
	for i := range 10 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if s := generate(t, r.url, key, fmt.Sprintf("before the first token %d", i)); s != 200 {
				failed.Add(1)
			}
		}()
	}
	time.Sleep(100 * time.Millisecond)
	srvs[0].CloseClientConnections() // the replica dies with the requests in its queue
	wg.Wait()
	t.Logf("replica killed before the first token: %d of 10 requests failed", failed.Load())
	if failed.Load() != 0 {
		t.Fatalf("%d requests failed although the other replica was up", failed.Load())
	}

	// After the first token: streams on replica 0 end with an error event.
	sims[0].SetFaults(sim.Faults{})
	resp := request(t, "POST", r.url+"/api/v1/code/generate/stream",
		map[string]any{"prompt": "a long answer", "max_tokens": 400, "temperature": 0.9}, "X-API-Key", key)
	defer resp.Body.Close()
	var code string
	tokens := 0
	sseEvents(resp.Body, func(ev map[string]any, _ string) bool {
		if ev["type"] == "token" {
			if tokens++; tokens == 3 {
				srvs[0].CloseClientConnections()
				srvs[1].CloseClientConnections() // wherever it runs, the replica dies mid-stream
			}
		}
		if ev["type"] == "error" {
			code, _ = ev["error_code"].(string)
			return false
		}
		return ev["type"] != "done"
	})
	t.Logf("replica killed after the first token: the stream ended with %q after %d tokens", code, tokens)
	if code != "E5006" && code != "E5005" {
		t.Fatalf("a stream cut mid-way ended with %q", code)
	}
}

// TestFault503Storm: one replica answering 503 to everything is ejected by its circuit
// after a few failures; clients see no failure, and the retries it costs are bounded.
func TestFault503Storm(t *testing.T) {
	sims, srvs := upstreamPair(t, sim.Config{Seed: 6, TTFT: time.Millisecond, ITL: time.Millisecond})
	sims[0].SetFaults(sim.Faults{ErrorRate: 1, ErrorStatus: 503})
	c := newCluster(t, clusterOpts{n: 1, noRedis: true, env: map[string]string{
		"VLLM_SERVER_URL": srvs[0].URL + "," + srvs[1].URL, "RATE_LIMIT_ENABLED": "false"}})
	key, _ := c.key("storm", 0)
	failed := 0
	for i := range 100 {
		if s := generate(t, c.replicas[0].url, key, fmt.Sprintf("storm %d", i)); s != 200 {
			failed++
		}
	}
	storm := sims[0].Stats().Errors
	t.Logf("100 requests while one of two replicas answers 503: %d failed; the failing replica was tried %d times", failed, storm)
	if failed != 0 || storm > 20 {
		t.Fatalf("%d failed, %d attempts on the failing replica", failed, storm)
	}
}

// TestFaultGatewayKilled: kill -9 under load loses at most the request-log rows of
// the last flush interval (500 ms): every answer before it was logged.
func TestFaultGatewayKilled(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 1, noRedis: true, sim: sim.Config{TTFT: time.Millisecond, ITL: time.Millisecond},
		env: map[string]string{"RATE_LIMIT_ENABLED": "false"}})
	r := c.replicas[0]
	key, k := c.key("killed", 0)
	var answered atomic.Int64
	stop := make(chan struct{})
	var wg sync.WaitGroup
	start := time.Now()
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; ; i++ {
				select {
				case <-stop:
					return
				default:
				}
				req, _ := http.NewRequest("POST", r.url+"/api/v1/code/generate",
					strings.NewReader(fmt.Sprintf(`{"prompt":"kill %d %d","max_tokens":5,"temperature":0.9}`, w, i)))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-API-Key", key)
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					return // the gateway is gone
				}
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode == 200 {
					answered.Add(1)
				}
			}
		}()
	}
	time.Sleep(3 * time.Second)
	r.kill()
	elapsed := time.Since(start)
	close(stop)
	wg.Wait()
	rows, err := c.db.RequestLog().Since(context.Background(), start.Add(-time.Minute), "", 0)
	if err != nil {
		t.Fatal(err)
	}
	logged := 0
	for _, row := range rows {
		if row.KeyID != nil && *row.KeyID == k.ID && row.Status == 200 {
			logged++
		}
	}
	rate := float64(answered.Load()) / elapsed.Seconds()
	lost := answered.Load() - int64(logged)
	t.Logf("kill -9 after %.1f s at %.0f requests/s: %d answered, %d logged, %d lost (%.2f s of traffic)",
		elapsed.Seconds(), rate, answered.Load(), logged, lost, float64(lost)/rate)
	if answered.Load() == 0 || lost < 0 || float64(lost) > rate*1.0 {
		t.Fatalf("%d rows lost, more than one second of traffic (%.0f)", lost, rate)
	}
}
