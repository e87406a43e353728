package bench

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hapa-project/hapa/store"
)

// DemoKey is the development key the suite's gateways provision (DEMO_API_KEY_ENABLED).
const DemoKey = "hapa_demo_20241228_secure_key_for_testing"

// benchPrompt is the prompt of every suite request (a unique " #n" is appended where
// the cache and coalescing must not answer).
const benchPrompt = "write a function that sorts a list of integers"

// SuiteOpts configures RunSuite.
type SuiteOpts struct {
	Bin      string    // the hapa binary (os.Executable)
	Dir      string    // scratch directory: databases, child logs
	Version  string    // hapa version, for the report
	Scale    float64   // multiplies every duration (default 1)
	Sockets  int       // idle WebSocket sockets (default 10,000)
	RedisURL string    // Redis for the cache scenario; empty: try redis://127.0.0.1:6379/14
	Log      io.Writer // progress
	Commands []string  // how the suite was invoked, for the report
	Only     []string  // run only these scenarios (overhead, throughput, streaming, pertoken, websocket, cache, cancellation, coalescing, completion)
	// Baseline is another hapa binary (an earlier build): the throughput, streaming and
	// per-token scenarios run its gateway beside this one's, in the same rotating rounds.
	Baseline string
}

// suite carries one run's state.
type suite struct {
	o   SuiteOpts
	hc  *http.Client
	rep *Report
	up  *Upstream // what HAPA sends vLLM for benchPrompt: the direct side sends the same
}

func (s *suite) d(base time.Duration) time.Duration { return time.Duration(float64(base) * s.o.Scale) }

func (s *suite) logf(format string, args ...any) {
	fmt.Fprintf(s.o.Log, "%s "+format+"\n", append([]any{time.Now().Format("15:04:05")}, args...)...)
}

// RaiseNoFile lifts RLIMIT_NOFILE to at least n (up to the hard limit, or beyond it
// as root); children started afterwards inherit it.
func RaiseNoFile(n uint64) (uint64, error) {
	var r syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &r); err != nil {
		return 0, err
	}
	if r.Cur >= n {
		return r.Cur, nil
	}
	want := syscall.Rlimit{Cur: n, Max: max(r.Max, n)}
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err != nil {
		want = syscall.Rlimit{Cur: r.Max, Max: r.Max}
		if err2 := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &want); err2 != nil {
			return r.Cur, err
		}
	}
	return want.Cur, nil
}

// RunSuite runs every scenario of docs/performance.md against child processes of o.Bin
// and returns the report. A failing scenario is reported as such; the others still run.
func RunSuite(ctx context.Context, o SuiteOpts) (*Report, error) {
	if o.Scale <= 0 {
		o.Scale = 1
	}
	if o.Sockets <= 0 {
		o.Sockets = 10000
	}
	if o.Log == nil {
		o.Log = io.Discard
	}
	limit, err := RaiseNoFile(65536)
	if err != nil {
		return nil, fmt.Errorf("bench: raising the open-files limit: %w", err)
	}
	s := &suite{o: o, hc: NewHTTPClient(4096), rep: &Report{Title: "HAPA performance"}}
	t0 := time.Now()
	startLoad := loadAvg()
	s.rep.Intro = introText
	s.rep.Machine = machine(o.Version, limit)
	if o.Baseline != "" {
		s.rep.Machine = append(s.rep.Machine, [2]string{"baseline build (--baseline)", baselineVersion(ctx, o.Baseline)})
	}
	s.rep.Commands = o.Commands
	if len(o.Only) == 0 || slices.ContainsFunc(o.Only, func(n string) bool {
		return n == "overhead" || n == "throughput" || n == "streaming"
	}) {
		s.logf("recording the upstream request of a code generation")
		if s.up, err = CaptureUpstream(ctx, o.Bin, o.Dir); err != nil {
			return nil, err
		}
	}
	steps := []struct {
		name string
		fn   func(ctx context.Context) error
	}{
		{"overhead", s.overhead},
		{"throughput", s.throughput},
		{"streaming", s.streaming},
		{"pertoken", s.perToken},
		{"websocket", s.websocket},
		{"cache", s.cache},
		{"cancellation", s.cancellation},
		{"coalescing", s.coalescing},
		{"completion", s.completion},
	}
	for _, st := range steps {
		if ctx.Err() != nil {
			break
		}
		if len(o.Only) > 0 && !slices.Contains(o.Only, st.name) {
			continue
		}
		settle() // the last scenario's garbage (10,000 client sockets) must not pause this one
		s.logf("scenario %s", st.name)
		first, load := len(s.rep.Sections), loadAvg()
		err := st.fn(ctx)
		if len(s.rep.Sections) > first {
			sec := &s.rep.Sections[first]
			sec.Text = "Load average (1, 5, 15 min) at the start of this scenario: " + load + ".\n\n" + sec.Text
		}
		if err != nil {
			s.logf("scenario %s failed: %v", st.name, err)
			s.rep.Sections = append(s.rep.Sections, Section{Title: st.name + ": failed",
				Text: "The scenario did not complete: `" + err.Error() + "`"})
		}
	}
	s.rep.Machine = append(s.rep.Machine,
		[2]string{"load average at the end (1, 5, 15 min)", loadAvg()},
		[2]string{"suite wall time", fmt.Sprintf("%.0f s", time.Since(t0).Seconds())})
	s.rep.Notes = notesText
	if busy := busyWarning(startLoad); busy != "" {
		s.rep.Intro += "\n\n" + busy
	}
	return s.rep, ctx.Err()
}

// completion is scenario (g): prompt building with editor context, in this process.
func (s *suite) completion(ctx context.Context) error {
	sec, goals, err := CompletionBench(ctx, CompletionOpts{})
	s.rep.Goals = append(s.rep.Goals, goals...)
	s.rep.Sections = append(s.rep.Sections, sec)
	return err
}

// baselineVersion is what `BIN --version` prints (e.g. "hapa 2c25d52"), else the path.
func baselineVersion(ctx context.Context, bin string) string {
	out, err := exec.CommandContext(ctx, bin, "--version").Output()
	if v := strings.TrimSpace(string(out)); err == nil && v != "" {
		return v
	}
	return bin
}

// settle returns the load generator's garbage to the OS and gives the machine a
// moment, so that one scenario's clean-up does not land in the next one's figures.
func settle() {
	runtime.GC()
	debug.FreeOSMemory()
	time.Sleep(time.Second)
}

func machine(version string, nofile uint64) [][2]string {
	model := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	kernel := "unknown"
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		kernel = strings.TrimSpace(string(b))
	}
	mem := "unknown"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if line, _, ok := strings.Cut(string(b), "\n"); ok {
			mem = strings.TrimSpace(strings.TrimPrefix(line, "MemTotal:"))
		}
	}
	return [][2]string{
		{"date", time.Now().UTC().Format("2006-01-02 15:04 UTC")},
		{"CPUs (nproc)", fmt.Sprint(runtime.NumCPU())},
		{"CPU model", model},
		{"memory", mem},
		{"kernel", kernel},
		{"Go", runtime.Version()},
		{"hapa", version},
		{"open-files limit", fmt.Sprint(nofile)},
		{"load average at the start (1, 5, 15 min)", loadAvg()},
	}
}

// busyWarning is a warning for the report when other work kept the machine busy before
// the suite started (1-minute load average above half the CPUs; the suite itself then
// adds about 2–3), else "".
func busyWarning(startLoad string) string {
	f := strings.Split(startLoad, ", ")
	var l1 float64
	if _, err := fmt.Sscan(f[0], &l1); err != nil || l1 <= float64(runtime.NumCPU())/2 {
		return ""
	}
	return fmt.Sprintf("> **Warning:** the 1-minute load average was %.2f on %d CPUs before the suite started: other "+
		"processes competed for the cores, so latencies include their queueing and the comparisons are noisy. "+
		"Run `make bench` on an otherwise idle machine for figures to quote.", l1, runtime.NumCPU())
}

// LoadAvg is the 1, 5 and 15-minute load averages ("unknown" off Linux): other work on
// the machine shows here, and in every latency figure.
func LoadAvg() string { return loadAvg() }

// loadAvg reads /proc/loadavg: other work on the machine shows here.
func loadAvg() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return "unknown"
	}
	return strings.Join(f[:3], ", ")
}

// zeroSim is a simulator that answers at once: every figure is the software's.
var zeroSim = []string{"--ttft", "0", "--itl", "0", "--max-num-seqs", "8192"}

// streamSim emits a token every 5 ms, faster than any GPU serving many streams: with
// 1,000 streams it offers more tokens than 2 cores can relay (a saturation test).
var streamSim = []string{"--ttft", "0", "--itl", "5ms", "--max-num-seqs", "8192"}

// paceSim emits a token every 50 ms (20 tokens/s per stream, a 7B model under heavy
// batching): 1,000 streams offer 20,000 tokens/s, below what the machine relays, so
// time to first token is not a queue.
var paceSim = []string{"--ttft", "0", "--itl", "50ms", "--max-num-seqs", "8192"}

func (s *suite) stack(ctx context.Context, name string, simArgs []string, proxy bool, env ...string) (*Stack, error) {
	return StartStack(ctx, StackOpts{Bin: s.o.Bin, Dir: s.o.Dir, Name: name, SimArgs: simArgs, Env: env, Proxy: proxy})
}

// refStack is a stack with the reference proxy, which sends HAPA's upstream request
// with maxTokens.
func (s *suite) refStack(ctx context.Context, name string, simArgs []string, maxTokens int) (*Stack, error) {
	o, err := s.refOpts(name, simArgs, maxTokens)
	if err != nil {
		return nil, err
	}
	return StartStack(ctx, o)
}

func (s *suite) refOpts(name string, simArgs []string, maxTokens int) (StackOpts, error) {
	tmpl := filepath.Join(s.o.Dir, name+"-upstream.json")
	if err := s.up.WriteTemplate(tmpl, maxTokens); err != nil {
		return StackOpts{}, err
	}
	return StackOpts{Bin: s.o.Bin, Dir: s.o.Dir, Name: name, SimArgs: simArgs,
		Ref: true, RefTemplate: tmpl, RefPath: s.up.Path}, nil
}

func compareTable(c *Comparison, label string) Table {
	t := Table{Header: append([]string{label}, ResultHeader...)}
	t.Rows = append(t.Rows, append([]string{""}, ResultRow("HAPA", c.HAPA)...))
	t.Rows = append(t.Rows, append([]string{""}, ResultRow("direct", c.Direct)...))
	if c.Ref != nil {
		t.Rows = append(t.Rows, append([]string{""}, ResultRow("reference proxy", c.Ref)...))
	}
	return t
}

// withBase adds the baseline build's row to a compareTable (none without one).
func withBase(t Table, base *Side) Table {
	if base != nil {
		t.Rows = append(t.Rows, append([]string{""}, ResultRow(base.Name, base.Res)...))
	}
	return t
}

// addedRow is what HAPA adds over the direct side of c.
func addedRow(label string, c *Comparison) []string {
	return addedCells(label, c.HAPA, c.Direct, c.GatewayCPUPercent(), MiB(c.PeakRSS))
}

// refAddedRow is what the reference proxy adds over the direct side of c.
func refAddedRow(label string, c *Comparison) []string {
	return addedCells(label, c.Ref, c.Direct, c.RefCPUPercent(), "–")
}

func addedCells(label string, side, direct *Result, cpu float64, rss string) []string {
	h, d := &side.Latency, &direct.Latency
	return []string{label,
		Ms(Added(h, d, 0.5)), fmt.Sprintf("%.2f×", Ratio(h, d, 0.5)),
		Ms(Added(h, d, 0.9)), fmt.Sprintf("%.2f×", Ratio(h, d, 0.9)),
		Ms(Added(h, d, 0.99)), fmt.Sprintf("%.2f×", Ratio(h, d, 0.99)),
		fmt.Sprintf("%.0f %%", cpu), rss, sendLag(side, direct)}
}

// sendLag shows whether the open-loop scheduler kept its schedule ("–" in a closed loop).
func sendLag(side, direct *Result) string {
	if side.SendLag.Count() == 0 {
		return "–"
	}
	return Ms(side.SendLag.Quantile(0.99)) + " / " + Ms(direct.SendLag.Quantile(0.99))
}

var addedHeader = []string{"load", "added p50", "ratio p50", "added p90", "ratio p90", "added p99", "ratio p99", "CPU (% of a core)", "peak RSS", "send lag p99 (this side / direct)"}

// overhead is scenario (a), the closed loop at 64 and the request-log check, on one
// gateway in front of a zero-latency simulator.
func (s *suite) overhead(ctx context.Context) error {
	const maxTokens = 16
	st, err := s.refStack(ctx, "overhead", zeroSim, maxTokens)
	if err != nil {
		return err
	}
	defer st.Stop()
	pid := st.GW.Pid()
	hapa := RESTTarget(s.hc, st.GW.URL, DemoKey, GenBody(benchPrompt, 0.7, maxTokens, true))
	direct := VLLMPathTarget(s.hc, st.SimURL(), s.up.Path, s.up.Body(maxTokens, true))
	ref := RESTTarget(s.hc, st.Ref.URL, DemoKey, GenBody(benchPrompt, 0.7, maxTokens, true))
	served, sent := 0, 0
	count := func(r *Result) { served += r.OK; sent += r.Requests }

	// Warm both sides (connections, caches of the runtime); counted for the log check.
	w := Run(ctx, Load{Rate: 200, Duration: s.d(time.Second)}, hapa)
	count(w)
	Run(ctx, Load{Rate: 200, Duration: s.d(time.Second), First: 1 << 20}, direct)
	Run(ctx, Load{Rate: 200, Duration: s.d(time.Second), First: 1 << 20}, ref)
	// Idle is read after the warm-up has settled: start-up work (migrations, hashing the
	// generated admin password with Argon2id's 19 MiB) is not the idle footprint.
	time.Sleep(3 * time.Second)
	idle0, _ := ReadProc(pid)

	next := w.Next
	sec := Section{Title: "(a) One-shot generation overhead",
		Text: "Open loop (latency from the intended send time). HAPA: `POST /api/v1/code/generate` " +
			"(API key auth, rate limiter on with lifted limits, JSON access log to a file, Prometheus metrics, " +
			"request log to SQLite; temperature 0.7 and a unique prompt, so neither cache nor coalescing answers). " +
			"Direct: the request HAPA itself sends upstream for this prompt — recorded from a gateway at the start " +
			"of the suite: a streamed `POST " + s.up.Path + "` with HAPA's system prompt, the user's prompt, " +
			"max_tokens 16, temperature, top_p and stop — read to `data: [DONE]`, so the difference is what the " +
			"gateway adds to the same upstream exchange. " +
			"Simulator: TTFT 0, ITL 0. Reference proxy: `hapa bench refproxy`, its own process like the " +
			"gateway, serving the same route with the least a net/http gateway does — decode the body, send the " +
			"same upstream request as direct with the prompt spliced in, decode every chunk to `[DONE]`, answer JSON — and no " +
			"authentication, limits, logs, metrics, templates, cache or request log; what it adds over direct " +
			"is the floor under any Go gateway's added latency on this machine (the HTTP hop and the runtime). " +
			"Rounds rotate direct, HAPA and the reference proxy, so each goes first, second and last equally often."}
	added := Table{Header: addedHeader}
	var at1000 *Comparison
	for _, rate := range []float64{500, 1000} {
		c := CompareRef(ctx, Load{Rate: rate, Duration: s.d(2 * time.Second), First: next}, 6, hapa, direct, ref, pid, st.Ref.Pid())
		next = max(c.HAPA.Next, c.Direct.Next, c.Ref.Next)
		count(c.HAPA)
		sec.Tables = append(sec.Tables, compareTable(c, fmt.Sprintf("%.0f req/s", rate)))
		added.Rows = append(added.Rows, addedRow(fmt.Sprintf("%.0f req/s, HAPA", rate), c),
			refAddedRow(fmt.Sprintf("%.0f req/s, reference proxy", rate), c))
		s.logf("  %.0f req/s: added p50 %s p99 %s (reference proxy %s, %s)", rate,
			Ms(Added(&c.HAPA.Latency, &c.Direct.Latency, 0.5)), Ms(Added(&c.HAPA.Latency, &c.Direct.Latency, 0.99)),
			Ms(Added(&c.Ref.Latency, &c.Direct.Latency, 0.5)), Ms(Added(&c.Ref.Latency, &c.Direct.Latency, 0.99)))
		if rate == 1000 {
			at1000 = c
		}
	}
	// Let the gateway go idle and see how much memory it gives back.
	time.Sleep(s.d(10 * time.Second))
	idle1, _ := ReadProc(pid)
	sec.Tables = append(sec.Tables, added)

	h, d, rf := &at1000.HAPA.Latency, &at1000.Direct.Latency, &at1000.Ref.Latency
	a50, a99 := Added(h, d, 0.5), Added(h, d, 0.99)
	okLoad := at1000.HAPA.ErrorCount() == 0
	s.rep.Goals = append(s.rep.Goals,
		Goal{"one-shot added latency p50 at 1,000 req/s", "≤ 0.2 ms",
			fmt.Sprintf("%s (HAPA p50 %s, direct %s; HAPA answered %.0f req/s); the reference proxy adds %s",
				Ms(a50), Ms(h.Quantile(0.5)), Ms(d.Quantile(0.5)), at1000.HAPA.Throughput(), Ms(Added(rf, d, 0.5))),
			Check(a50 <= 200*time.Microsecond && okLoad)},
		Goal{"one-shot added latency p99 at 1,000 req/s", "≤ 1 ms",
			fmt.Sprintf("%s (HAPA p99 %s, direct %s); the reference proxy adds %s",
				Ms(a99), Ms(h.Quantile(0.99)), Ms(d.Quantile(0.99)), Ms(Added(rf, d, 0.99))),
			Check(a99 <= time.Millisecond && okLoad)},
	)
	// Within 1 MiB of before counts as back: with the GC floor the heap is held at its
	// goal, so before, peak and after are level and differ by a few pages.
	returned := idle1.RSS <= max(idle0.RSS+(at1000.PeakRSS-idle0.RSS)/2, idle0.RSS+1<<20)
	s.rep.Goals = append(s.rep.Goals, Goal{"gateway RSS at 1,000 req/s, back toward idle after",
		"peak ≤ 64 MiB; after 10 s idle at most half-way between before and peak, or within 1 MiB of before",
		fmt.Sprintf("before %s, peak %s, after %s (VmRSS)", MiB(idle0.RSS), MiB(at1000.PeakRSS), MiB(idle1.RSS)),
		Check(at1000.PeakRSS <= 64<<20 && returned)})
	sec.Text += fmt.Sprintf("\n\nGateway RSS (VmRSS): %s before the load (after the warm-up; start-up garbage such as Argon2id's 19 MiB may not be returned yet), %s peak during the 1,000 req/s rounds, %s after %.0f s idle. "+
		"Of the before figure %s is anonymous memory (heap, stacks; RssAnon) and the rest mostly the binary's mapped pages; after the idle wait %s is anonymous.",
		MiB(idle0.RSS), MiB(at1000.PeakRSS), MiB(idle1.RSS), s.d(10*time.Second).Seconds(), MiB(idle0.Anon), MiB(idle1.Anon))
	s.rep.Sections = append(s.rep.Sections, sec)

	// Closed loop at 64.
	s.logf("  closed loop 64")
	c := Compare(ctx, Load{Concurrency: 64, Duration: s.d(3 * time.Second), First: next}, 4, hapa, direct, pid)
	count(c.HAPA)
	ratio := 0.0
	if c.Direct.Throughput() > 0 {
		ratio = c.HAPA.Throughput() / c.Direct.Throughput()
	}
	s.rep.Goals = append(s.rep.Goals, Goal{"closed loop at 64: HAPA throughput / direct", "≥ 45 %",
		fmt.Sprintf("%.0f %% (%.0f vs %.0f req/s)", 100*ratio, c.HAPA.Throughput(), c.Direct.Throughput()),
		Check(ratio >= 0.45)})
	cl := Section{Title: "Closed loop at 64 concurrent requests",
		Text: "Same targets as (a); 64 requests always in flight, rounds alternate. Both the gateway " +
			"and the simulator (and the load generator) share the machine's cores, so the direct figure " +
			"is the simulator alone with all cores minus the client's share.",
		Tables: []Table{compareTable(c, "64 in flight"), {Header: addedHeader, Rows: [][]string{addedRow("64 in flight", c)}}}}

	// Request-log check: stop the gateway (it flushes the log), count rows.
	if err := st.StopGateway(); err != nil {
		s.logf("  gateway stop: %v", err)
	}
	rows, err := countRequestLog(ctx, st.DBPath)
	if err != nil {
		return err
	}
	s.rep.Goals = append(s.rep.Goals, Goal{"request log: one row per request served (0 lost)",
		"rows = answered requests", fmt.Sprintf("%d rows, %d answered, %d sent", rows, served, sent), Check(rows == served)})
	cl.Text += fmt.Sprintf("\n\nRequest log: after the gateway's shutdown the SQLite `request_log` holds %d rows; the "+
		"load generator got %d answers to %d requests on this gateway (warm-up, (a) and this loop).", rows, served, sent)
	s.rep.Sections = append(s.rep.Sections, cl)
	return nil
}

func countRequestLog(ctx context.Context, path string) (int, error) {
	db, err := store.Open(ctx, "sqlite:///"+path)
	if err != nil {
		return 0, err
	}
	defer db.Close()
	return db.RequestLog().Count(ctx, time.Time{})
}
