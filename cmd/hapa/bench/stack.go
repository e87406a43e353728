package bench

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"syscall"
	"time"
)

// Proc is a child process of the suite (the gateway or the simulator).
type Proc struct {
	Name string
	URL  string
	cmd  *exec.Cmd
	log  *os.File
	done chan error
}

// Pid is the process id.
func (p *Proc) Pid() int { return p.cmd.Process.Pid }

// startProc runs bin with args and env (added to a minimal environment), its output
// going to logPath, and waits until GET readyPath answers 200.
func startProc(ctx context.Context, name, bin string, args, env []string, dir, logPath, url, readyPath string) (*Proc, error) {
	f, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	cmd.Env = append([]string{"PATH=" + os.Getenv("PATH"), "HOME=" + os.Getenv("HOME")}, env...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, err
	}
	p := &Proc{Name: name, URL: url, cmd: cmd, log: f, done: make(chan error, 1)}
	go func() { p.done <- cmd.Wait() }()
	deadline := time.Now().Add(20 * time.Second)
	for {
		select {
		case err := <-p.done:
			p.done <- err
			return nil, fmt.Errorf("bench: %s exited during start (%v); see %s", name, err, logPath)
		default:
		}
		resp, err := http.Get(url + readyPath)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return p, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			p.Stop()
			return nil, fmt.Errorf("bench: %s not ready at %s%s; see %s", name, url, readyPath, logPath)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Stop sends SIGTERM and waits up to 30 s (the gateway flushes its request log), then
// kills.
func (p *Proc) Stop() error {
	if p == nil {
		return nil
	}
	defer p.log.Close()
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case err := <-p.done:
		p.done <- err
		var ee *exec.ExitError
		if errors.As(err, &ee) && !ee.Exited() {
			return nil // ended by the signal
		}
		return err
	case <-time.After(30 * time.Second):
		_ = p.cmd.Process.Kill()
		return fmt.Errorf("bench: %s did not stop in 30s; killed", p.Name)
	}
}

// freePort asks the kernel for an unused loopback port.
func freePort() (int, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return 0, err
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port, nil
}

// Stack is one simulator and one gateway in front of it, each a child process.
type Stack struct {
	Sim, GW *Proc
	Ref     *Proc       // the reference proxy in front of the simulator, when asked for
	Proxy   *CloseProxy // between gateway and simulator, when asked for
	DBPath  string
	Dir     string
	// Base is a second gateway from another build (StackOpts.Baseline) with its own
	// SQLite database BaseDBPath, configured as GW and in front of the same simulator.
	Base       *Proc
	BaseDBPath string
}

// StackOpts configures StartStack.
type StackOpts struct {
	Bin     string   // the hapa binary
	Dir     string   // working directory (SQLite file, logs)
	Name    string   // prefix of log files
	SimArgs []string // extra `hapa sim` flags
	Env     []string // extra gateway settings (KEY=VALUE), after the suite's defaults
	Proxy   bool     // put a CloseProxy between gateway and simulator
	Ref     bool     // also start the reference proxy (RefProxy) in front of the simulator
	// RefTemplate is the reference proxy's upstream request (Upstream.WriteTemplate) and
	// RefPath its path; empty: a plain /v1/completions request.
	RefTemplate, RefPath string
	// Baseline, when set, is another hapa binary (an earlier build) started as a second
	// gateway (Stack.Base) beside the first, so both builds are measured in one run.
	Baseline string
}

// BenchRateRules lifts every rate limit far above what the suite sends, so that the
// limiter runs (and is measured) but never refuses.
const BenchRateRules = "generation=100000000/m,stream=100000000/m,completion=100000000/m,ops=100000000/m,default=100000000/m"

// StartStack starts the simulator, then the gateway (SQLite in Dir, demo key, limits
// on but lifted, JSON access logs to a file, metrics on).
func StartStack(ctx context.Context, o StackOpts) (*Stack, error) {
	st := &Stack{Dir: o.Dir, DBPath: filepath.Join(o.Dir, o.Name+".db")}
	simPort, err := freePort()
	if err != nil {
		return nil, err
	}
	simURL := "http://127.0.0.1:" + strconv.Itoa(simPort)
	args := append([]string{"sim", "--host", "127.0.0.1", "--port", strconv.Itoa(simPort)}, o.SimArgs...)
	st.Sim, err = startProc(ctx, o.Name+"-sim", o.Bin, args, nil, o.Dir,
		filepath.Join(o.Dir, o.Name+"-sim.log"), simURL, "/health")
	if err != nil {
		return nil, err
	}
	if o.Ref {
		refPort, err := freePort()
		if err != nil {
			st.Stop()
			return nil, err
		}
		refAddr := "127.0.0.1:" + strconv.Itoa(refPort)
		args := []string{"bench", "refproxy", "--listen", refAddr, "--upstream", simURL}
		if o.RefTemplate != "" {
			args = append(args, "--template", o.RefTemplate, "--path", o.RefPath)
		}
		st.Ref, err = startProc(ctx, o.Name+"-refproxy", o.Bin, args, nil, o.Dir, filepath.Join(o.Dir, o.Name+"-refproxy.log"), "http://"+refAddr, "/health")
		if err != nil {
			st.Stop()
			return nil, err
		}
	}
	upstream := simURL
	if o.Proxy {
		st.Proxy, err = NewCloseProxy("127.0.0.1:" + strconv.Itoa(simPort))
		if err != nil {
			st.Stop()
			return nil, err
		}
		upstream = "http://" + st.Proxy.Addr()
	}
	st.GW, err = startGateway(ctx, o.Bin, o.Dir, o.Name+"-gateway", st.DBPath, upstream, o.Env)
	if err != nil {
		st.Stop()
		return nil, err
	}
	if o.Baseline != "" {
		st.BaseDBPath = filepath.Join(o.Dir, o.Name+"-baseline.db")
		st.Base, err = startGateway(ctx, o.Baseline, o.Dir, o.Name+"-baseline", st.BaseDBPath, upstream, o.Env)
		if err != nil {
			st.Stop()
			return nil, err
		}
	}
	return st, nil
}

// startGateway runs `bin serve` as name on a free port with the suite's configuration
// (gatewayEnv) plus env, and waits for /readyz.
func startGateway(ctx context.Context, bin, dir, name, dbPath, upstream string, env []string) (*Proc, error) {
	port, err := freePort()
	if err != nil {
		return nil, err
	}
	url := "http://127.0.0.1:" + strconv.Itoa(port)
	env = append(gatewayEnv(port, dbPath, upstream), env...)
	return startProc(ctx, name, bin, []string{"serve"}, env, dir, filepath.Join(dir, name+".log"), url, "/readyz")
}

// gatewayEnv is the gateway's configuration in the suite: SQLite at dbPath, the demo
// key, limits on but lifted, JSON access logs, metrics and incidents on.
func gatewayEnv(port int, dbPath, upstream string) []string {
	return []string{
		"HOST=127.0.0.1", "PORT=" + strconv.Itoa(port),
		"DATABASE_URL=sqlite:///" + dbPath,
		"VLLM_SERVER_URL=" + upstream,
		"DEMO_API_KEY_ENABLED=true",
		"RATE_LIMIT_ENABLED=true", "RATE_LIMIT_RULES=" + BenchRateRules,
		"WS_MAX_CONNS_PER_KEY=100000",
		"STRUCTURED_LOGGING=true", "LOG_LEVEL=INFO",
		"ERROR_MONITORING_ENABLED=true",
	}
}

// SimURL is the simulator's base URL (not through the proxy).
func (s *Stack) SimURL() string { return s.Sim.URL }

// StopGateway stops the gateway only (its request log is flushed on the way out).
func (s *Stack) StopGateway() error {
	err := s.GW.Stop()
	s.GW = nil
	return err
}

// StopBaseline stops the baseline build's gateway only (its request log is flushed).
func (s *Stack) StopBaseline() error {
	err := s.Base.Stop()
	s.Base = nil
	return err
}

// Stop stops the gateway, the proxies and the simulator.
func (s *Stack) Stop() error {
	var errs []error
	if s.GW != nil {
		errs = append(errs, s.GW.Stop())
		s.GW = nil
	}
	if s.Base != nil {
		errs = append(errs, s.Base.Stop())
		s.Base = nil
	}
	if s.Ref != nil {
		errs = append(errs, s.Ref.Stop())
		s.Ref = nil
	}
	if s.Proxy != nil {
		s.Proxy.Close()
		s.Proxy = nil
	}
	if s.Sim != nil {
		errs = append(errs, s.Sim.Stop())
		s.Sim = nil
	}
	return errors.Join(errs...)
}
