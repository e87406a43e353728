package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"net/url"
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strconv"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
)

// TestPgBouncerTransactionMode answers docs/operations.md's question: HAPA works through
// PgBouncer in transaction pooling mode — migrations, authentication, the request log's
// batched inserts (more than one full batch), logout — with no prepared statement kept
// across transactions.
func TestPgBouncerTransactionMode(t *testing.T) {
	bin := os.Getenv("HAPA_PGBOUNCER") // set by .ci/run: then a missing pgbouncer fails the test
	if bin == "" {
		var err error
		if bin, err = exec.LookPath("pgbouncer"); err != nil {
			if bin, err = exec.LookPath("/usr/sbin/pgbouncer"); err != nil {
				t.Skip("pgbouncer not installed (.ci/run installs it and sets HAPA_PGBOUNCER)")
			}
		}
	}
	base := os.Getenv("TEST_DATABASE_URL")
	if base == "" {
		t.Skip("TEST_DATABASE_URL not set")
	}
	// A database of its own: a search_path in the URL does not survive transaction
	// pooling (each transaction may run on another server connection).
	admin, err := sqlx.Open("postgres", base)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close()
	name := "hapa_bouncer_" + storetest.RandomHex(t)
	if _, err := admin.Exec("CREATE DATABASE " + name); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { admin.Exec("DROP DATABASE " + name + " WITH (FORCE)") })
	u, _ := url.Parse(base)
	host, port, _ := net.SplitHostPort(u.Host)

	dir := t.TempDir()
	listen := freePort(t)
	ini := fmt.Sprintf(`[databases]
%s = host=%s port=%s dbname=%s
[pgbouncer]
listen_addr = 127.0.0.1
listen_port = %d
unix_socket_dir =
auth_type = trust
auth_file = %s
pool_mode = transaction
max_client_conn = 200
default_pool_size = 5
ignore_startup_parameters = extra_float_digits
logfile = %s
pidfile = %s
`, name, host, port, name, listen, filepath.Join(dir, "users.txt"), filepath.Join(dir, "pgbouncer.log"), filepath.Join(dir, "pgbouncer.pid"))
	dbUser := u.User.Username()
	if err := os.WriteFile(filepath.Join(dir, "users.txt"), []byte(fmt.Sprintf("%q \"\"\n", dbUser)), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg := filepath.Join(dir, "pgbouncer.ini")
	if err := os.WriteFile(cfg, []byte(ini), 0o600); err != nil {
		t.Fatal(err)
	}
	pb := exec.Command(bin, cfg)
	if os.Geteuid() == 0 { // pgbouncer refuses to run as root (CI runs as root)
		pg, err := user.Lookup("postgres")
		if err != nil {
			t.Fatalf("running as root needs a postgres user for pgbouncer: %v", err)
		}
		uid, _ := strconv.Atoi(pg.Uid)
		gid, _ := strconv.Atoi(pg.Gid)
		for _, p := range []string{dir, cfg, filepath.Join(dir, "users.txt")} {
			if err := os.Chown(p, uid, gid); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.Chmod(filepath.Dir(dir), 0o755); err != nil {
			t.Fatal(err)
		}
		pb = exec.Command("runuser", "-u", "postgres", "--", bin, cfg)
	}
	pb.SysProcAttr = &syscall.SysProcAttr{Setpgid: true} // killed with its group: runuser and pgbouncer
	var pbLog syncBuffer
	pb.Stdout, pb.Stderr = &pbLog, &pbLog
	if err := pb.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = syscall.Kill(-pb.Process.Pid, syscall.SIGKILL); _ = pb.Wait() })
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		if c, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(listen)); err == nil {
			c.Close()
			break
		}
		if time.Now().After(deadline) {
			log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
			t.Fatalf("pgbouncer did not listen: %s\n%s", pbLog.String(), log)
		}
	}
	bounced := fmt.Sprintf("postgres://%s@127.0.0.1:%d/%s?sslmode=disable", dbUser, listen, name)

	// Migrations through the pooler, then a replica on it.
	db, err := store.Open(context.Background(), bounced)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	if _, err := db.Migrate(context.Background()); err != nil {
		t.Fatalf("migrations through pgbouncer: %v", err)
	}
	plain, k, err := db.APIKeys().Create(context.Background(), store.NewKey{Name: "bounced",
		Scopes: store.Scopes{store.ScopeCodeGeneration, store.ScopeCodeCompletion}})
	if err != nil {
		t.Fatal(err)
	}
	c := newCluster(t, clusterOpts{n: 1, noRedis: true, env: map[string]string{"DATABASE_URL": bounced,
		"RATE_LIMIT_ENABLED": "false", "SIM_TTFT": "0s", "SIM_ITL": "0s"}})
	r := c.replicas[0]
	const n = 600 // more than two full request-log batches (256 rows)
	var wg sync.WaitGroup
	var failed int
	var mu sync.Mutex
	for w := range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := w; i < n; i += 8 {
				resp := request(t, "POST", r.url+"/api/v1/code/generate",
					map[string]any{"prompt": fmt.Sprintf("bounced %d", i), "max_tokens": 4, "temperature": 0.9}, "X-API-Key", plain)
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					mu.Lock()
					failed++
					mu.Unlock()
				}
			}
		}()
	}
	// Meanwhile, queries with parameters from many connections at once: each must run
	// its own statement with its own parameters. (lib/pq's default protocol prepares
	// and executes in two round trips with a Sync between them, so PgBouncer could hand
	// the execute to another server connection: "unnamed prepared statement does not
	// exist", or another query's parameters bound to this statement.)
	hash := store.HashKey(plain)
	stop := make(chan struct{})
	var lookups, wrong int
	var qwg sync.WaitGroup
	for range 16 {
		qwg.Add(1)
		go func() {
			defer qwg.Done()
			for {
				select {
				case <-stop:
					return
				default:
				}
				got, err := db.APIKeys().ByHash(context.Background(), hash)
				_, err2 := db.RequestLog().Count(context.Background(), time.Now().Add(-time.Minute))
				mu.Lock()
				lookups++
				if err != nil || err2 != nil || got.ID != k.ID {
					wrong++
					if wrong <= 3 {
						t.Errorf("a query through PgBouncer: %v, %v (key %d)", err, err2, got.ID)
					}
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	close(stop)
	qwg.Wait()
	var rows int
	for deadline := time.Now().Add(15 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		all, err := db.RequestLog().Since(context.Background(), time.Now().Add(-time.Hour), "", 0)
		if err != nil {
			t.Fatal(err)
		}
		rows = 0
		for _, row := range all {
			if row.KeyID != nil && *row.KeyID == k.ID {
				rows++
			}
		}
		if rows == n {
			break
		}
	}
	t.Logf("through PgBouncer %s in transaction mode: %d requests, %d failed, %d request-log rows; %d concurrent lookups, %d wrong",
		"1.18", n, failed, rows, lookups, wrong)
	if failed != 0 || rows != n {
		log, _ := os.ReadFile(filepath.Join(dir, "pgbouncer.log"))
		t.Fatalf("%d failed, %d of %d rows logged\nreplica:\n%s\npgbouncer:\n%s", failed, rows, n, r.log.String(), log)
	}
}
