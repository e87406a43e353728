package main

import (
	"context"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/vllm/sim"
)

// The replica tests beside TestReplicas (replicas_test.go): the cluster without Redis,
// a first start of several replicas at once, and the helpers they share.

// TestReplicasWithoutRedis: without Redis a revocation (written by the CLI to the
// database only) and a logout still reach every replica, within
// REVOCATION_CHECK_INTERVAL (500 ms here).
func TestReplicasWithoutRedis(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 2, noRedis: true, sim: sim.Config{ITL: 10 * time.Millisecond}})
	key, k := c.key("doomed", 0)
	resp := request(t, "POST", c.replicas[1].url+"/api/v1/code/generate/stream",
		map[string]any{"prompt": "an endless essay", "max_tokens": 3000, "temperature": 0.9}, "X-API-Key", key)
	defer resp.Body.Close()
	code := make(chan string, 1)
	started := make(chan struct{})
	go func() {
		first, got := true, "none"
		sseEvents(resp.Body, func(ev map[string]any, _ string) bool {
			if first && ev["type"] == "token" {
				first = false
				close(started)
			}
			if ev["type"] == "error" {
				got, _ = ev["error_code"].(string)
				return false
			}
			return ev["type"] != "done"
		})
		code <- got
	}()
	<-started
	revoked := time.Now()
	c.hapa("keys", "revoke", strconv.FormatInt(k.ID, 10))
	select {
	case got := <-code:
		t.Logf("without Redis: the SSE stream on r2 ended %d ms after the CLI revoked its key, with %s", time.Since(revoked).Milliseconds(), got)
		if got != "E4007" {
			t.Fatalf("ended with %q", got)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the stream was not ended")
	}
	r := request(t, "POST", c.replicas[0].url+"/api/v1/code/generate", map[string]any{"prompt": "x"}, "X-API-Key", key)
	r.Body.Close()
	if r.StatusCode != 401 {
		t.Fatalf("the revoked key on r1: %d", r.StatusCode)
	}
}

// TestReplicasFirstStart: three replicas starting together on a fresh database create
// one admin and print one password, and that password signs in through the API on
// another replica.
func TestReplicasFirstStart(t *testing.T) {
	c := newCluster(t, clusterOpts{n: 3, env: map[string]string{"ADMIN_PASSWORD": ""}})
	created := regexp.MustCompile(`created admin account (\S+) with password (\S+)`)
	var found [][]string
	for _, r := range c.replicas {
		if m := created.FindStringSubmatch(r.log.String()); m != nil {
			found = append(found, append(m, r.name))
		}
	}
	if len(found) != 1 {
		t.Fatalf("%d replicas printed a new admin password: %v", len(found), found)
	}
	email, password, by := found[0][1], found[0][2], found[0][3]
	other := c.replicas[0]
	if other.name == by {
		other = c.replicas[1]
	}
	resp := request(t, "POST", other.url+"/auth/login", map[string]any{"email": email, "password": password})
	resp.Body.Close()
	t.Logf("one admin password printed (by %s); it signs in on %s: %d", by, other.name, resp.StatusCode)
	if resp.StatusCode != 200 {
		t.Fatalf("the printed password does not sign in: %d", resp.StatusCode)
	}
}

func ptr[T any](v T) *T { return &v }

// quotaUsed reads a key's day window from the cluster's Redis.
func (c *cluster) quotaUsed(t *testing.T, keyID int64) int {
	t.Helper()
	rdb, err := store.NewRedis(c.env["REDIS_URL"])
	if err != nil {
		t.Fatal(err)
	}
	defer rdb.Close()
	pattern := c.env["REDIS_PREFIX"] + "q:{" + strconv.FormatInt(keyID, 10) + "}:d:*"
	keys, err := rdb.Keys(context.Background(), pattern).Result()
	if err != nil {
		t.Fatal(err)
	}
	total := 0
	for _, k := range keys {
		n, _ := rdb.Get(context.Background(), k).Int()
		total += n
	}
	return total
}

// metricSum adds up one metric over every replica's /metrics.
func (c *cluster) metricSum(t *testing.T, name string) float64 {
	t.Helper()
	var sum float64
	for _, r := range c.replicas {
		resp, err := http.Get(r.url + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		for _, line := range strings.Split(string(b), "\n") {
			if strings.HasPrefix(line, name+"{") || strings.HasPrefix(line, name+" ") {
				f := strings.Fields(line)
				v, _ := strconv.ParseFloat(f[len(f)-1], 64)
				sum += v
			}
		}
	}
	return sum
}
