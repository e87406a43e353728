package storetest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/hapa-project/hapa/store"
)

// RequireRedisHAEnv names the variable that turns a missing redis-server or
// redis-sentinel into a test failure instead of a skip (.ci/run sets it).
const RequireRedisHAEnv = "HAPA_REQUIRE_REDIS_HA"

// RedisNode is one redis-server (or sentinel) process this test started, on loopback,
// with its files in a temporary directory. It is killed when the test ends.
type RedisNode struct {
	Addr  string // 127.0.0.1:port
	Port  int
	Ports []int // Port, then the further ports its configuration was given (a cluster's bus port)
	t     testing.TB
	cmd   *exec.Cmd
	dir   string
	done  chan struct{}

	once   sync.Once
	client *redis.Client
}

// redisBinary returns the path of a Redis program (Debian's packages redis-server and
// redis-sentinel), or skips the test (fails it with HAPA_REQUIRE_REDIS_HA=1) when it is
// not installed.
func redisBinary(t testing.TB, name string) string {
	t.Helper()
	for _, n := range []string{name, "/usr/bin/" + name, "/usr/local/bin/" + name} {
		if p, err := exec.LookPath(n); err == nil {
			return p
		}
	}
	msg := fmt.Sprintf("%s not installed (apt-get install redis-server redis-sentinel; .ci/run installs them and sets %s=1)", name, RequireRedisHAEnv)
	if os.Getenv(RequireRedisHAEnv) == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// freePorts returns n loopback ports that were free a moment ago.
func freePorts(t testing.TB, n int) []int {
	t.Helper()
	var out []int
	var lns []net.Listener
	for range n {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		lns = append(lns, ln)
		out = append(out, ln.Addr().(*net.TCPAddr).Port)
	}
	for _, ln := range lns {
		ln.Close()
	}
	return out
}

// startRedis starts redis-server (sentinel: redis-sentinel) with the configuration
// lines conf, completed by port, bind address, directory and log file, and waits
// until it answers PING. extra picks further ports the configuration needs (a
// cluster's bus port); a port taken meanwhile by someone else is retried on others.
func startRedis(t testing.TB, sentinel bool, extra int, conf func(ports []int) []string) *RedisNode {
	t.Helper()
	bin := redisBinary(t, "redis-server")
	if sentinel {
		bin = redisBinary(t, "redis-sentinel")
	}
	dir := t.TempDir()
	var last string
	for try := 0; try < 5; try++ {
		ports := freePorts(t, 1+extra)
		lines := append([]string{
			"port " + strconv.Itoa(ports[0]), "bind 127.0.0.1", "protected-mode no", "daemonize no",
			"dir " + dir, "logfile " + filepath.Join(dir, "redis.log"),
		}, conf(ports)...)
		if !sentinel {
			lines = append(lines, `save ""`, "appendonly no", "repl-diskless-sync-delay 0") // replicas in sync at once
		}
		file := filepath.Join(dir, "redis.conf")
		if err := os.WriteFile(file, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		n := &RedisNode{Addr: "127.0.0.1:" + strconv.Itoa(ports[0]), Port: ports[0], Ports: ports, t: t, dir: dir, done: make(chan struct{})}
		n.cmd = exec.Command(bin, file)
		n.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL} // gone with the test binary
		if err := n.cmd.Start(); err != nil {
			t.Fatal(err)
		}
		go func() { _ = n.cmd.Wait(); close(n.done) }()
		t.Cleanup(n.Kill)
		if n.waitPing() {
			return n
		}
		n.Kill()
		last = n.Log()
		os.Remove(filepath.Join(dir, "nodes.conf")) // a cluster node's identity from the failed start
	}
	t.Fatalf("redis-server did not start:\n%s", last)
	return nil
}

// waitPing waits up to 10 s for PING; false when the process exited or never answered.
func (n *RedisNode) waitPing() bool {
	c := redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1, DialTimeout: 200 * time.Millisecond})
	defer c.Close()
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		select {
		case <-n.done:
			return false
		default:
		}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		err := c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return true
		}
		time.Sleep(20 * time.Millisecond)
	}
	return false
}

// Kill ends the process with SIGKILL (a crash) and waits for it.
func (n *RedisNode) Kill() {
	if n.cmd.Process == nil {
		return
	}
	select {
	case <-n.done:
		return
	default:
	}
	_ = n.cmd.Process.Kill()
	<-n.done
}

// Log returns the server's log file.
func (n *RedisNode) Log() string {
	b, _ := os.ReadFile(filepath.Join(n.dir, "redis.log"))
	return string(b)
}

// Client returns a client of this one server (the same one on every call), closed
// when the test ends.
func (n *RedisNode) Client() *redis.Client {
	n.once.Do(func() {
		n.client = redis.NewClient(&redis.Options{Addr: n.Addr, MaxRetries: -1, DialTimeout: time.Second})
		n.t.Cleanup(func() { n.client.Close() })
	})
	return n.client
}

// waitUntil polls cond every 50 ms for up to 30 s, failing the test with what after that.
func waitUntil(t testing.TB, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); !cond(); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// do runs one command on c with a short timeout.
func do(c *redis.Client, args ...any) (any, error) {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	return c.Do(ctx, args...).Result()
}

// hapaClient is HAPA's client of url (store.NewRedis), closed when the test ends.
func hapaClient(t testing.TB, url string) redis.UniversalClient {
	t.Helper()
	c, err := store.NewRedis(url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}
