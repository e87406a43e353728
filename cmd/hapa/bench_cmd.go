package main

import (
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/hapa-project/hapa/cmd/hapa/bench"
	"github.com/hapa-project/hapa/vllm"
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// benchCmd is `hapa bench`, the load generator; see docs/performance.md.
//
//	hapa bench run [flags]            one ad-hoc load against any base URL
//	hapa bench suite --out FILE       every scenario of docs/performance.md (make bench)
//	hapa bench refproxy [flags]       the suite's reference gateway (a bare net/http proxy)
//	hapa bench completion [flags]     completion prompts with editor context (scenario g)
func benchCmd(getenv func(string) string) *cobra.Command {
	c := groupCmd("bench", "Run the load generator (docs/performance.md)",
		`Load generator: an ad-hoc load against any gateway (run), every scenario of
docs/performance.md with the gateway and simulator as child processes (suite, what make
bench runs), the suite's reference proxy (refproxy), and the completion-context scenario
on its own (completion).`,
		benchRunCmd(getenv), benchSuiteCmd(getenv), benchRefProxyCmd(), benchCompletionCmd(getenv))
	return c
}

// benchRefProxyCmd serves bench.RefProxy until ctx ends.
func benchRefProxyCmd() *cobra.Command {
	c := &cobra.Command{
		Use:   "refproxy",
		Short: "Serve the suite's reference gateway (a bare net/http proxy)",
		Long: `Serve the reference gateway of the benchmark suite: a bare net/http reverse proxy with
one upstream request per call, the floor HAPA's overhead is measured against.`,
		Example: "  hapa bench refproxy --listen 127.0.0.1:8010 --upstream http://127.0.0.1:8002",
		Args:    cobra.NoArgs,
	}
	fs := c.Flags()
	listen := fs.String("listen", "127.0.0.1:8010", "address to serve on")
	upstream := fs.String("upstream", "http://127.0.0.1:8002", "vLLM base URL")
	path := fs.String("path", "/v1/completions", "upstream path")
	tmplFile := fs.String("template", "", "upstream request body with the prompt marker (written by the suite); empty: a plain completion request")
	c.RunE = func(c *cobra.Command, _ []string) error {
		ctx, stdout := c.Context(), c.OutOrStdout()
		var tmpl []byte
		if *tmplFile != "" {
			b, err := os.ReadFile(*tmplFile)
			if err != nil {
				return err
			}
			tmpl = b
		}
		h, err := bench.RefProxy(*upstream, *path, tmpl)
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", *listen)
		if err != nil {
			return err
		}
		srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
		go func() {
			<-ctx.Done()
			_ = srv.Close()
		}()
		fmt.Fprintf(stdout, "reference proxy on http://%s in front of %s\n", ln.Addr(), *upstream)
		if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
			return err
		}
		return nil
	}
	return c
}

func benchRunCmd(getenv func(string) string) *cobra.Command {
	c := &cobra.Command{
		Use:   "run",
		Short: "One ad-hoc load against a gateway (or vLLM)",
		Long: `One load against any base URL: closed loop (--concurrency workers) or open loop
(--rate requests per second), over REST, SSE, the WebSocket or straight to vLLM; prints
latency, TTFT and throughput, and with --compare the latency HAPA adds over vLLM.`,
		Example: `  hapa bench run --mode sse --concurrency 32 --duration 20s
  hapa bench run --mode ws --rate 200 --sockets 64
  hapa bench run --compare http://127.0.0.1:8002 --rounds 3 --pid $(pidof hapa)`,
		Args: cobra.NoArgs,
	}
	fs := c.Flags()
	key := benchKey(getenv)
	var (
		url         = fs.String("url", "http://127.0.0.1:8000", "HAPA base URL (for --mode vllm: the vLLM server)")
		apiKey      = fs.String("key", key, "API key (env HAPA_API_KEY; default the demo key)")
		mode        = fs.String("mode", "rest", "rest (POST /api/v1/code/generate) | sse (…/generate/stream) | ws (generation.create) | vllm (streamed /v1/completions)")
		rate        = fs.Float64("rate", 0, "open loop: requests per second (0 = closed loop)")
		concurrency = fs.Int("concurrency", 64, "closed loop: requests in flight")
		duration    = fs.Duration("duration", 10*time.Second, "length of one round")
		rampUp      = fs.Duration("ramp-up", 0, "closed loop: spread the workers' first requests over this long (0 = all at once)")
		rounds      = fs.Int("rounds", 1, "rounds (with --compare: per side, alternating)")
		compare     = fs.String("compare", "", "vLLM base URL: also send the equivalent streamed /v1/completions there and print the added latency")
		prompt      = fs.String("prompt", "write a function that sorts a list of integers", "prompt")
		maxTokens   = fs.Int("max-tokens", 16, "max_tokens")
		temperature = fs.Float64("temperature", 0.7, "temperature (≤ 0.3 is cacheable by default)")
		unique      = fs.Bool("unique", true, "append the request number to the prompt (defeats cache and coalescing)")
		sockets     = fs.Int("sockets", 64, "ws mode: sockets to open")
		pid         = fs.Int("pid", 0, "local gateway pid: report its RSS and CPU")
		timeout     = fs.Duration("timeout", 30*time.Second, "per-request limit")
	)
	c.RunE = func(c *cobra.Command, _ []string) error {
		ctx, stdout := c.Context(), c.OutOrStdout()
		if *rounds < 1 || *duration <= 0 {
			return errors.New("bench run: --rounds and --duration must be positive")
		}
		if _, err := bench.RaiseNoFile(65536); err != nil {
			fmt.Fprintln(stdout, "warning: open-files limit:", err)
		}
		hc := bench.NewHTTPClient(max(*concurrency, 256))
		var target bench.Target
		switch *mode {
		case "rest":
			target = bench.RESTTarget(hc, *url, *apiKey, bench.GenBody(*prompt, *temperature, *maxTokens, *unique))
		case "sse":
			target = bench.SSETarget(hc, *url, *apiKey, bench.GenBody(*prompt, *temperature, *maxTokens, *unique))
		case "vllm":
			target = bench.VLLMStreamTarget(hc, *url, bench.VLLMBody(*prompt, *temperature, *maxTokens, *unique))
		case "ws":
			pool := bench.DialPool(ctx, hc, *url, *apiKey, *sockets, 64)
			defer pool.Close()
			fmt.Fprintf(stdout, "ws: %d sockets open, dial errors: %s\n", len(pool.Clients), bench.Errors(pool.Errors))
			target = bench.WSTarget(pool, *prompt, *temperature, *maxTokens, *unique)
		default:
			return fmt.Errorf("bench run: unknown --mode %q", *mode)
		}
		load := bench.Load{Rate: *rate, Concurrency: *concurrency, Duration: *duration, RampUp: *rampUp, Timeout: *timeout}
		if *compare != "" {
			direct := bench.VLLMStreamTarget(hc, *compare, bench.VLLMBody(*prompt, *temperature, *maxTokens, *unique))
			cmp := bench.Compare(ctx, load, *rounds, target, direct, *pid)
			bench.WriteText(stdout, "HAPA", cmp.HAPA)
			bench.WriteText(stdout, "direct", cmp.Direct)
			for _, q := range []float64{0.5, 0.9, 0.99} {
				fmt.Fprintf(stdout, "added latency p%02.0f: %s (%.2f×)", q*100, bench.Ms(bench.Added(&cmp.HAPA.Latency, &cmp.Direct.Latency, q)),
					bench.Ratio(&cmp.HAPA.Latency, &cmp.Direct.Latency, q))
				if cmp.HAPA.TTFT.Count() > 0 && cmp.Direct.TTFT.Count() > 0 {
					fmt.Fprintf(stdout, "   added TTFT: %s", bench.Ms(bench.Added(&cmp.HAPA.TTFT, &cmp.Direct.TTFT, q)))
				}
				fmt.Fprintln(stdout)
			}
			if *pid != 0 {
				fmt.Fprintf(stdout, "gateway (HAPA rounds): CPU %.0f %% of a core, peak RSS %s\n", cmp.GatewayCPUPercent(), bench.MiB(cmp.PeakRSS))
			}
			return ctx.Err()
		}
		total := &bench.Result{}
		for range *rounds {
			stop := bench.Watch(ctx, *pid, 100*time.Millisecond)
			r := bench.Run(ctx, load, target)
			u := stop()
			load.First = r.Next
			total.Merge(r)
			if *pid != 0 {
				fmt.Fprintf(stdout, "gateway: CPU %.0f %% of a core, RSS %s (peak %s)\n", u.CPUPercent(), bench.MiB(u.After.RSS), bench.MiB(u.PeakRSS))
			}
		}
		bench.WriteText(stdout, *mode, total)
		return ctx.Err()
	}
	return c
}

func benchSuiteCmd(getenv func(string) string) *cobra.Command {
	c := &cobra.Command{
		Use:   "suite",
		Short: "Every scenario of docs/performance.md (what make bench runs)",
		Long: `Run every scenario of docs/performance.md with this binary's gateway, simulator and
reference proxy as child processes on 127.0.0.1, and write the report (about 5 minutes
on 2 cores at --scale 1).`,
		Example: "  hapa bench suite --out docs/performance.md\n  hapa bench suite --only overhead,cache --scale 0.5 --out /tmp/report.md\n" +
			"  hapa bench suite --only throughput,streaming,pertoken --baseline /tmp/hapa-before --out /tmp/report.md",
		Args: cobra.NoArgs,
	}
	fs := c.Flags()
	var (
		out     = fs.String("out", "docs/performance.md", "report file")
		scale   = fs.Float64("scale", 1, "multiply every scenario's duration")
		sockets = fs.Int("sockets", 10000, "idle WebSocket sockets")
		redis   = fs.String("redis-url", getenv("REDIS_URL"), "Redis for the cache scenario (default: redis://127.0.0.1:6379/14 when reachable)")
		keep    = fs.Bool("keep", false, "keep the scratch directory (databases, child logs)")
		only    = fs.String("only", "", "comma-separated scenarios to run: overhead, throughput, streaming, pertoken, websocket, cache, cancellation, coalescing, completion (default all)")
		base    = fs.String("baseline", "", "another hapa binary (an earlier build) whose gateway runs beside this one in the throughput, streaming and pertoken scenarios")
	)
	c.RunE = func(c *cobra.Command, _ []string) error {
		ctx, stdout := c.Context(), c.OutOrStdout()
		args := []string{"suite"}
		c.Flags().Visit(func(f *pflag.Flag) { args = append(args, "--"+f.Name+"="+f.Value.String()) })
		bin, err := os.Executable()
		if err != nil {
			return err
		}
		dir, err := os.MkdirTemp("", "hapa-bench-")
		if err != nil {
			return err
		}
		if *keep {
			fmt.Fprintln(stdout, "scratch directory:", dir)
		} else {
			defer os.RemoveAll(dir)
		}
		cmdline := "hapa bench " + strings.Join(args, " ")
		rep, err := bench.RunSuite(ctx, bench.SuiteOpts{Bin: bin, Dir: dir, Version: version, Scale: *scale,
			Sockets: *sockets, RedisURL: *redis, Log: stdout, Only: splitList(*only), Baseline: *base,
			Commands: []string{"make bench   # = go build … -o bin/hapa ./cmd/hapa && ./bin/hapa bench suite --out docs/performance.md", cmdline}})
		if rep == nil {
			return err
		}
		if dirOut := filepath.Dir(*out); dirOut != "" {
			_ = os.MkdirAll(dirOut, 0o755)
		}
		f, ferr := os.Create(*out)
		if ferr != nil {
			return ferr
		}
		defer f.Close()
		if werr := rep.Render(f); werr != nil {
			return werr
		}
		fmt.Fprintln(stdout, "wrote", *out)
		return err
	}
	return c
}

// benchCompletionCmd is `hapa bench completion`: scenario (g) of docs/performance.md
// on its own, printed as Markdown.
func benchCompletionCmd(getenv func(string) string) *cobra.Command {
	c := &cobra.Command{
		Use:   "completion",
		Short: "Completion prompts with editor context: size, build time, recall (scenario g)",
		Long: `Build the completion prompt of every case of the shipped corpus (cursor positions in four
small repositories, with the repository's other files as context snippets) and of 20
snippets of 200 lines, in this process, and report prompt size, build time per request
(p50/p99) and how much of each expected completion the packed context holds. With --url
every case is also completed by that gateway, with and without its snippets.`,
		Example: `  hapa bench completion
  hapa bench completion --family qwen2.5-coder --budget 512
  hapa bench completion --url http://127.0.0.1:8000 --key "$HAPA_API_KEY"`,
		Args: cobra.NoArgs,
	}
	fs := c.Flags()
	key := benchKey(getenv)
	var (
		family = fs.String("family", "deepseek-coder", "FIM template family (VLLM_MODEL_FAMILY)")
		budget = fs.Int("budget", 1024, "context budget, tokens (CONTEXT_TOKEN_BUDGET)")
		maxLen = fs.Int("max-model-len", 16384, "the model's context length, tokens")
		rounds = fs.Int("rounds", 200, "prompt builds per corpus case")
		stress = fs.Int("stress-rounds", 2000, "builds of the 20 × 200-line case")
		url    = fs.String("url", "", "also complete every case at this gateway (with and without snippets)")
		apiKey = fs.String("key", key, "API key for --url (env HAPA_API_KEY; default the demo key)")
	)
	c.RunE = func(c *cobra.Command, _ []string) error {
		fam, err := vllm.ParseFamily(*family)
		if err != nil {
			return err
		}
		load := bench.LoadAvg()
		sec, goals, err := bench.CompletionBench(c.Context(), bench.CompletionOpts{Family: fam, BudgetTokens: *budget,
			MaxModelLen: *maxLen, Rounds: *rounds, StressRounds: *stress, URL: *url, Key: *apiKey, HTTP: bench.NewHTTPClient(4)})
		sec.Text = "Load average (1, 5, 15 min) at the start: " + load + ".\n\n" + sec.Text
		rep := &bench.Report{Title: "HAPA completion prompts", Goals: goals, Sections: []bench.Section{sec}}
		if rerr := rep.Render(c.OutOrStdout()); rerr != nil {
			return rerr
		}
		return err
	}
	return c
}

// benchKey is the API key the load commands default to: HAPA_API_KEY, else the demo
// key.
func benchKey(getenv func(string) string) string {
	if key := getenv("HAPA_API_KEY"); key != "" {
		return key
	}
	return bench.DemoKey
}
