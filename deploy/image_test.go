package deploy

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// instruction is one Dockerfile instruction of a stage, continuations joined.
type instruction struct {
	cmd  string // upper case: FROM, RUN, COPY, ENV …
	args string
}

type stage struct {
	from, name string
	ins        []instruction
}

// parseDockerfile splits the Dockerfile into stages (no shell, no variables: enough for
// the rules below, which the Dockerfile keeps simple on purpose).
func parseDockerfile(t *testing.T) []stage {
	t.Helper()
	var stages []stage
	sc := bufio.NewScanner(strings.NewReader(read(t, "Dockerfile")))
	var buf string
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		if buf == "" && (line == "" || strings.HasPrefix(line, "#")) {
			continue
		}
		if strings.HasSuffix(line, `\`) {
			buf += strings.TrimSuffix(line, `\`) + " "
			continue
		}
		line, buf = buf+line, ""
		cmd, args, _ := strings.Cut(line, " ")
		in := instruction{strings.ToUpper(cmd), strings.TrimSpace(args)}
		if in.cmd == "FROM" {
			f := strings.Fields(in.args)
			st := stage{from: f[0]}
			if len(f) == 3 && strings.EqualFold(f[1], "AS") {
				st.name = f[2]
			}
			stages = append(stages, st)
			continue
		}
		if len(stages) == 0 {
			t.Fatalf("Dockerfile: %s before FROM", in.cmd)
		}
		stages[len(stages)-1].ins = append(stages[len(stages)-1].ins, in)
	}
	if len(stages) < 2 {
		t.Fatalf("Dockerfile has %d stages, want a build and a runtime stage", len(stages))
	}
	return stages
}

func (s stage) all(cmd string) []string {
	var out []string
	for _, in := range s.ins {
		if in.cmd == cmd {
			out = append(out, in.args)
		}
	}
	return out
}

func (s stage) last(cmd string) string {
	a := s.all(cmd)
	if len(a) == 0 {
		return ""
	}
	return a[len(a)-1]
}

// env is the stage's ENV, KEY=VALUE pairs (one instruction may hold several).
func (s stage) env(t *testing.T) map[string]string {
	out := map[string]string{}
	for _, args := range s.all("ENV") {
		for _, kv := range strings.Fields(args) {
			k, v, ok := strings.Cut(kv, "=")
			if !ok {
				t.Fatalf("ENV %q: use the KEY=VALUE form", args)
			}
			out[k] = strings.Trim(v, `"`)
		}
	}
	return out
}

func execForm(t *testing.T, what, args string) []string {
	t.Helper()
	var out []string
	if err := json.Unmarshal([]byte(args), &out); err != nil {
		t.Fatalf("%s %s: want the exec (JSON) form: distroless has no shell: %v", what, args, err)
	}
	return out
}

// TestDockerfileInvariants: what the runtime image needs and cannot fix at run time.
func TestDockerfileInvariants(t *testing.T) {
	stages := parseDockerfile(t)
	build, final := stages[0], stages[len(stages)-1]

	// Pinned bases: the build stage's Go is go.mod's, the runtime image is a digest.
	goVersion := regexp.MustCompile(`(?m)^go (\S+)`).FindStringSubmatch(read(t, "go.mod"))[1]
	if !strings.HasPrefix(build.from, "golang:"+goVersion+"-") && build.from != "golang:"+goVersion {
		t.Errorf("build stage FROM %s: want golang:%s (go.mod's version)", build.from, goVersion)
	}
	if !regexp.MustCompile(`^gcr\.io/distroless/static-debian\d+:nonroot@sha256:[0-9a-f]{64}$`).MatchString(final.from) {
		t.Errorf("runtime FROM %s: want distroless static :nonroot pinned by digest", final.from)
	}
	for _, s := range stages {
		if strings.HasSuffix(s.from, ":latest") || !strings.Contains(s.from, ":") {
			t.Errorf("FROM %s is not pinned", s.from)
		}
	}

	if u := final.last("USER"); u != "nonroot:nonroot" && u != "65532:65532" {
		t.Errorf("USER %q: want nonroot:nonroot", u)
	}
	if ep := execForm(t, "ENTRYPOINT", final.last("ENTRYPOINT")); len(ep) != 1 || ep[0] != "/usr/local/bin/hapa" {
		t.Errorf("ENTRYPOINT %v", ep)
	}
	if cmd := execForm(t, "CMD", final.last("CMD")); len(cmd) != 1 || cmd[0] != "serve" {
		t.Errorf("CMD %v", cmd)
	}
	hc := final.last("HEALTHCHECK")
	i := strings.Index(hc, "CMD ")
	if i < 0 {
		t.Fatalf("HEALTHCHECK %q: want HEALTHCHECK [options] CMD [\"/usr/local/bin/hapa\",\"health\"]", hc)
	}
	if probe := execForm(t, "HEALTHCHECK CMD", hc[i+4:]); len(probe) < 2 || probe[0] != "/usr/local/bin/hapa" || probe[1] != "health" {
		t.Errorf("HEALTHCHECK runs %v", probe)
	}
	binary := false
	for _, c := range final.all("COPY") {
		binary = binary || strings.HasSuffix(c, " /usr/local/bin/hapa")
	}
	if !binary {
		t.Error("no COPY puts the binary at /usr/local/bin/hapa")
	}

	// The SQLite file: an absolute URL (four slashes) in the WORKDIR, which is a
	// directory made and chowned to nonroot in the build stage and copied with --chown.
	env := final.env(t)
	dbURL := env["DATABASE_URL"]
	if !strings.HasPrefix(dbURL, "sqlite:////") {
		t.Fatalf("DATABASE_URL %q: want sqlite:////absolute/path (three slashes are relative to the working directory)", dbURL)
	}
	dbFile := strings.TrimPrefix(dbURL, "sqlite:///")
	dataDir := final.last("WORKDIR")
	if filepath.Dir(dbFile) != dataDir {
		t.Errorf("the SQLite file %s is not in the WORKDIR %s", dbFile, dataDir)
	}
	var src string
	for _, c := range final.all("COPY") {
		f := strings.Fields(c)
		if f[len(f)-1] == dataDir {
			if !strings.Contains(c, "--chown=65532:65532") && !strings.Contains(c, "--chown=nonroot:nonroot") {
				t.Errorf("COPY %s: the data directory must be copied with --chown=65532:65532", c)
			}
			src = f[len(f)-2]
		}
	}
	if src == "" {
		t.Fatalf("no COPY makes the data directory %s (WORKDIR alone makes it root's)", dataDir)
	}
	made := false
	for _, r := range build.all("RUN") {
		made = made || strings.Contains(r, "mkdir -p "+src) && strings.Contains(r, "chown 65532:65532 "+src)
	}
	if !made {
		t.Errorf("the build stage does not mkdir and chown 65532:65532 %s", src)
	}
	if v := final.last("VOLUME"); v != "" && !strings.Contains(v, dataDir) {
		t.Errorf("VOLUME %s is not the data directory %s", v, dataDir)
	}
	if port := env["PORT"]; final.last("EXPOSE") != port {
		t.Errorf("EXPOSE %s, PORT %s", final.last("EXPOSE"), port)
	}
}

var (
	buildOnce sync.Once
	builtBin  string
	buildErr  error
)

// buildHapa compiles the binary once for the image tests.
func buildHapa(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		dir, err := os.MkdirTemp("", "hapa-image-test-")
		if err != nil {
			buildErr = err
			return
		}
		builtBin = filepath.Join(dir, "hapa")
		cmd := exec.Command("go", "build", "-o", builtBin, "./cmd/hapa")
		cmd.Dir = root(t)
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtBin
}

func freePort(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
}

// imageEnv is the runtime stage's ENV with the data directory mapped to dir, and PORT
// set to port: the only two changes to what the container gets.
func imageEnv(t *testing.T, dataDir, dir, port string) []string {
	t.Helper()
	stages := parseDockerfile(t)
	var out []string
	for k, v := range stages[len(stages)-1].env(t) {
		v = strings.ReplaceAll(v, dataDir, dir)
		if k == "PORT" {
			v = port
		}
		out = append(out, k+"="+v)
	}
	return out
}

// TestImageDefaultConfiguration starts `hapa serve` the way the image does: exactly the
// Dockerfile's ENV, in its WORKDIR, with the data directory a temporary one. The SQLite
// file must land in that directory (not in a var/lib/hapa/ below it), the start-up log
// must name it, and the HEALTHCHECK command must pass.
func TestImageDefaultConfiguration(t *testing.T) {
	stages := parseDockerfile(t)
	dataDir := stages[len(stages)-1].last("WORKDIR")
	bin := buildHapa(t)
	dir := t.TempDir()
	port := freePort(t)
	env := imageEnv(t, dataDir, dir, port)

	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	logs := &lockedBuffer{}
	serve := exec.CommandContext(ctx, bin, "serve")
	serve.Dir, serve.Env, serve.Stdout, serve.Stderr = dir, env, logs, logs
	if err := serve.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- serve.Wait() }()
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		serve.Process.Signal(syscall.SIGTERM)
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("serve after SIGTERM: %v\n%s", err, logs.String())
			}
		case <-time.After(20 * time.Second):
			serve.Process.Kill()
			t.Error("serve did not stop on SIGTERM")
		}
	}
	defer stop()

	// The HEALTHCHECK, as Docker runs it: the same environment, the exec form.
	var health []byte
	var err error
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(200 * time.Millisecond) {
		hc := exec.Command(bin, "health")
		hc.Dir, hc.Env = dir, env
		if health, err = hc.CombinedOutput(); err == nil {
			break
		}
		select {
		case e := <-exited:
			t.Fatalf("serve exited: %v\n%s", e, logs.String())
		default:
		}
	}
	if err != nil {
		t.Fatalf("hapa health never passed: %v %s\n%s", err, health, logs.String())
	}
	if !strings.HasPrefix(string(health), "healthy: GET http://127.0.0.1:"+port+"/readyz: 200") {
		t.Errorf("health output %q", health)
	}

	want := filepath.Join(dir, "hapa.db")
	if _, err := os.Stat(want); err != nil {
		t.Errorf("no database at %s (the image's %s/hapa.db): %v", want, dataDir, err)
	}
	if _, err := os.Stat(filepath.Join(dir, strings.TrimPrefix(dataDir, "/"))); err == nil {
		t.Errorf("a database directory was made below the WORKDIR: DATABASE_URL is relative")
	}
	stop() // the log is complete once serve has stopped
	if !strings.Contains(logs.String(), `"sqlite":"`+want+`"`) {
		t.Errorf("the start-up log does not name %s:\n%s", want, logs.String())
	}
}

// lockedBuffer collects a child's output while the test reads it.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestImageMissingDataDirectory: when the data directory is not there (a volume that is
// not mounted), the container stops at once with one line and exit status 1.
func TestImageMissingDataDirectory(t *testing.T) {
	stages := parseDockerfile(t)
	dataDir := stages[len(stages)-1].last("WORKDIR")
	bin := buildHapa(t)
	dir := t.TempDir()
	missing := filepath.Join(dir, "not-mounted")
	cmd := exec.Command(bin, "serve")
	cmd.Dir, cmd.Env = dir, imageEnv(t, dataDir, missing, freePort(t))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err := cmd.Run()
	exit, ok := err.(*exec.ExitError)
	if !ok || exit.ExitCode() != 1 {
		t.Fatalf("serve: %v, want exit status 1\n%s", err, stderr.String())
	}
	msg := stderr.String()
	if strings.Count(msg, "\n") != 1 || !strings.Contains(msg, missing+" of the SQLite file") {
		t.Errorf("stderr %q: want one line naming %s", msg, missing)
	}
}
