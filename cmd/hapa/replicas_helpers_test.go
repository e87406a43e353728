package main

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"os/signal"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime/ws/wsclient"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
	"github.com/hapa-project/hapa/vllm/sim"
)

// The multi-replica tests run several real `hapa serve` processes on one PostgreSQL
// schema and one Redis prefix: the test binary re-executes itself as a replica
// (TestMain, HAPA_TEST_CHILD), so the replicas are the code under test without a
// separate build, each with its own memory, caches and sockets, as in production.

// childEnv names the variable that turns this test binary into `hapa <args>`.
const childEnv = "HAPA_TEST_CHILD"

func TestMain(m *testing.M) {
	if args := os.Getenv(childEnv); args != "" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		err := run(ctx, strings.Fields(args), os.Getenv, os.Stdout)
		stop()
		if err != nil {
			fmt.Fprintln(os.Stderr, "hapa:", err)
			os.Exit(1)
		}
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// cluster is n replicas of `hapa serve` over one database, one Redis (unless
// noRedis) and one simulated vLLM.
type cluster struct {
	t        *testing.T
	env      map[string]string // every replica's environment
	sim      *sim.Server
	db       *store.DB        // the shared database, for the test's own reads and writes
	pgProxy  *storetest.Proxy // between the replicas and PostgreSQL (clusterOpts.pgProxy)
	replicas []*replica
	spools   map[string]string // replica name → its SPOOL_DIR
}

// replica is one child process.
type replica struct {
	name string
	port int    // fixed listen port (0: any free one, read from its log)
	url  string // http://127.0.0.1:port
	cmd  *exec.Cmd
	log  *syncBuffer
	done chan error
}

type clusterOpts struct {
	n       int
	fixed   bool // each replica keeps one port across restarts (a load balancer's config names them)
	pgProxy bool // the replicas reach PostgreSQL through a fault proxy (cluster.pgProxy)
	noRedis bool
	// redisURL is the replicas' REDIS_URL instead of TEST_REDIS_URL (a Sentinel or
	// Cluster setup of the test's own), with a fresh REDIS_PREFIX.
	redisURL string
	env      map[string]string // extra settings for every replica
	sim      sim.Config
}

// newCluster starts the replicas and waits until each answers /readyz. It needs
// TEST_DATABASE_URL and, unless noRedis, TEST_REDIS_URL (skipped when unset, failed
// when unreachable).
func newCluster(t *testing.T, o clusterOpts) *cluster {
	t.Helper()
	if testing.Short() {
		t.Skip("multi-replica tests start processes")
	}
	pg := storetest.PGURL(t)
	c := &cluster{t: t, sim: sim.New(o.sim)}
	up := httptest.NewServer(c.sim)
	t.Cleanup(up.Close)
	c.env = map[string]string{
		"HOST": "127.0.0.1", "PORT": "0", "DATABASE_URL": pg, "AUTO_MIGRATE": "true",
		"VLLM_SERVER_URL": up.URL, "SECRET_KEY": "replica-test-secret-0123456789abcdef",
		"ADMIN_PASSWORD": "replica-admin-password", "STRUCTURED_LOGGING": "true", "LOG_LEVEL": "INFO",
		"SHUTDOWN_TIMEOUT": "5s", "API_KEY_CACHE_TTL": "30s", "REVOCATION_CHECK_INTERVAL": "500ms",
		"SELF_SIGNUP": "true", "GC_MIN_HEAP_MB": "0",
	}
	if o.pgProxy {
		u, err := url.Parse(pg)
		if err != nil {
			t.Fatal(err)
		}
		c.pgProxy = storetest.NewProxy(t, u.Host)
		u.Host = c.pgProxy.Addr()
		c.env["DATABASE_URL"] = u.String()
	}
	switch {
	case o.redisURL != "":
		c.env["REDIS_URL"] = o.redisURL
		c.env["REDIS_PREFIX"] = "hapatest:" + storetest.RandomHex(t) + ":"
	case !o.noRedis:
		_, prefix := storetest.Redis(t) // its keys are deleted when the test ends
		c.env["REDIS_URL"] = storetest.RedisURL(t)
		c.env["REDIS_PREFIX"] = prefix
	}
	for k, v := range o.env {
		c.env[k] = v
	}
	// Migrate once before the replicas start, so that they race on nothing else.
	var err error
	if c.db, err = store.Open(context.Background(), pg); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.db.Close() })
	if _, err := c.db.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	for i := range max(o.n, 1) {
		port := 0
		if o.fixed {
			port = freePort(t)
		}
		c.replicas = append(c.replicas, c.start(fmt.Sprintf("r%d", i+1), port))
	}
	for _, r := range c.replicas {
		c.ready(r)
	}
	return c
}

// start launches one replica (not waiting for it) on port (0: any).
func (c *cluster) start(name string, port int) *replica {
	c.t.Helper()
	r := &replica{name: name, port: port, log: &syncBuffer{}, done: make(chan error, 1)}
	r.cmd = exec.Command(os.Args[0], "-test.run=^$")
	r.cmd.Env = append(os.Environ(), childEnv+"=serve --env-file /dev/null")
	for k, v := range c.env {
		r.cmd.Env = append(r.cmd.Env, k+"="+v)
	}
	if c.spools == nil {
		c.spools = map[string]string{}
	}
	if c.spools[name] == "" { // one spool per replica name: a restart finds what it left
		c.spools[name] = c.t.TempDir()
	}
	r.cmd.Env = append(r.cmd.Env, "PORT="+strconv.Itoa(port), "SPOOL_DIR="+c.spools[name])
	r.cmd.Stdout, r.cmd.Stderr = r.log, r.log
	if err := r.cmd.Start(); err != nil {
		c.t.Fatal(err)
	}
	go func() { r.done <- r.cmd.Wait() }()
	c.t.Cleanup(func() {
		r.stop(c.t)
		if c.t.Failed() { // what the replica warned about explains most failures
			for _, line := range strings.Split(r.log.String(), "\n") {
				if strings.Contains(line, `"level":"WARN"`) || strings.Contains(line, `"level":"ERROR"`) {
					c.t.Logf("%s: %s", r.name, line)
				}
			}
		}
	})
	return r
}

// ready waits for r's address in its log and for its /readyz.
func (c *cluster) ready(r *replica) {
	c.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if r.url == "" {
			r.url = r.listenAddr()
		}
		if r.url != "" {
			if resp, err := http.Get(r.url + "/readyz"); err == nil {
				resp.Body.Close()
				if resp.StatusCode == 200 {
					return
				}
			}
		}
		select {
		case err := <-r.done:
			c.t.Fatalf("%s exited: %v\n%s", r.name, err, r.log)
		case <-time.After(20 * time.Millisecond):
		}
	}
	c.t.Fatalf("%s not ready:\n%s", r.name, r.log)
}

// freePort returns a loopback port that was free a moment ago.
func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// listenAddr finds the main listener in r's JSON log.
func (r *replica) listenAddr() string {
	sc := bufio.NewScanner(strings.NewReader(r.log.String()))
	for sc.Scan() {
		var line struct{ Msg, Server, Addr string }
		if json.Unmarshal(sc.Bytes(), &line) == nil && line.Msg == "listening" && line.Server == "main" {
			return line.Addr
		}
	}
	return ""
}

// stop ends r with SIGTERM and waits for it (a clean shutdown).
func (r *replica) stop(t *testing.T) {
	if r.cmd.ProcessState != nil || r.cmd.Process == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-r.done:
	case <-time.After(20 * time.Second):
		_ = r.cmd.Process.Kill()
		<-r.done
		t.Errorf("%s did not stop on SIGTERM:\n%s", r.name, r.log)
	}
}

// kill ends r with SIGKILL (a crash).
func (r *replica) kill() {
	_ = r.cmd.Process.Kill()
	<-r.done
}

// restart stops r (cleanly) and starts it again with the same name.
func (c *cluster) restart(i int) *replica {
	c.t.Helper()
	c.replicas[i].stop(c.t)
	r := c.start(c.replicas[i].name, c.replicas[i].port)
	c.ready(r)
	c.replicas[i] = r
	return r
}

// key creates an API key with the given scopes and daily token quota (a day window:
// a minute window could roll over in the middle of a test) in the shared database.
func (c *cluster) key(name string, tokensPerDay int, scopes ...string) (string, store.APIKey) {
	c.t.Helper()
	if len(scopes) == 0 {
		scopes = []string{store.ScopeCodeGeneration, store.ScopeCodeCompletion}
	}
	plain, k, err := c.db.APIKeys().Create(context.Background(), store.NewKey{Name: name, Scopes: store.Scopes(scopes),
		TokensPerDay: tokensPerDay})
	if err != nil {
		c.t.Fatal(err)
	}
	return plain, k
}

// hapa runs a CLI command (`hapa keys revoke …`) against the cluster's database and
// Redis, in-process, and returns its output.
func (c *cluster) hapa(args ...string) string {
	c.t.Helper()
	var out syncBuffer
	n := min(2, len(args)) // flags go after the command words: `keys revoke --env-file … ID`
	args = append(append(append([]string{}, args[:n]...), "--env-file", "/dev/null"), args[n:]...)
	if err := run(context.Background(), args, env(c.env), &out); err != nil {
		c.t.Fatalf("hapa %v: %v\n%s", args, err, out.String())
	}
	return out.String()
}

// request sends one HTTP request with a JSON body and returns the response (body
// unread: streams are read by the caller).
func request(t *testing.T, method, url string, body any, hdr ...string) *http.Response {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = strings.NewReader(string(b))
	}
	req, _ := http.NewRequest(method, url, rd)
	req.Header.Set("Content-Type", "application/json")
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	return resp
}

// sseEvents reads an SSE body's data lines into events, calling each (decoded) until
// it returns false or the body ends.
func sseEvents(body io.Reader, each func(ev map[string]any, raw string) bool) {
	sc := bufio.NewScanner(body)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		data, ok := strings.CutPrefix(sc.Text(), "data: ")
		if !ok {
			continue
		}
		var ev map[string]any
		_ = json.Unmarshal([]byte(data), &ev)
		if !each(ev, data) {
			return
		}
	}
}

// timings collects named durations measured in a test, for its log and the docs.
type timings struct {
	mu sync.Mutex
	m  map[string][]time.Duration
}

func (tm *timings) add(name string, d time.Duration) {
	tm.mu.Lock()
	defer tm.mu.Unlock()
	if tm.m == nil {
		tm.m = map[string][]time.Duration{}
	}
	tm.m[name] = append(tm.m[name], d)
}

func wsURL(r *replica) string { return "ws" + strings.TrimPrefix(r.url, "http") + "/api/v1/realtime" }

func dial(t *testing.T, r *replica, key string) *wsclient.Client {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	c, err := wsclient.Dial(ctx, wsURL(r), key, nil)
	if err != nil {
		t.Fatalf("dial %s: %v", r.name, err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// logRow waits for the request-log row of request id and returns it.
func logRow(t *testing.T, db *store.DB, match func(store.RequestLogRow) bool) store.RequestLogRow {
	t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for time.Now().Before(deadline) {
		rows, err := db.RequestLog().Since(context.Background(), time.Now().Add(-time.Hour), "", 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			if match(r) {
				return r
			}
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Fatal("request-log row not written")
	return store.RequestLogRow{}
}
