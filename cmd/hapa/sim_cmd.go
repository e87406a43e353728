package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"strconv"
	"time"

	"github.com/hapa-project/hapa/vllm/sim"
)

// cmdSim runs the wire-faithful vLLM simulator on its own port.
func cmdSim(ctx context.Context, args []string, getenv func(string) string, stdout io.Writer) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stdout)
	var (
		host      = fs.String("host", "127.0.0.1", "listen host")
		port      = fs.Int("port", 8002, "listen port (the original vLLM server's)")
		seed      = fs.Int64("seed", 1, "output and fault randomness")
		model     = fs.String("model", sim.DefaultModel, "base model name")
		apiKey    = fs.String("api-key", getenv("AI_MODEL_API_KEY"), "require Authorization: Bearer (like vllm --api-key)")
		ttft      = fs.Duration("ttft", 40*time.Millisecond, "time to first token")
		itl       = fs.Duration("itl", 8*time.Millisecond, "inter-token latency")
		jitter    = fs.Duration("jitter", 0, "± jitter on TTFT and ITL")
		seqs      = fs.Int("max-num-seqs", 256, "concurrent sequences; more wait in a queue")
		maxLen    = fs.Int("max-model-len", 16384, "context length in tokens")
		errRate   = fs.Float64("error-rate", 0, "fraction of requests answered with a 500")
		okErr     = fs.Float64("ok-with-error-rate", 0, "fraction answered 200 with a JSON error body")
		midErr    = fs.Float64("error-in-stream-rate", 0, "fraction failing half-way with an error event")
		down      = fs.Bool("health-down", false, "GET /health answers 503")
		hang      = fs.Bool("hang", false, "send headers, then nothing before the first token")
		cut       = fs.Int("disconnect-after", 0, "drop the connection after N tokens")
		slowAfter = fs.Int("slow-after", 0, "tokens before --slow-delay applies")
		slowDelay = fs.Duration("slow-delay", 0, "extra delay per token after --slow-after")
	)
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg := sim.Config{
		Seed: *seed, Model: *model, APIKey: *apiKey, TTFT: *ttft, ITL: *itl, Jitter: *jitter,
		MaxNumSeqs: *seqs, MaxModelLen: *maxLen,
		Faults: sim.Faults{ErrorRate: *errRate, OKWithErrorRate: *okErr, ErrorInStreamRate: *midErr,
			HealthDown: *down, HangBeforeFirstToken: *hang, DisconnectAfterTokens: *cut,
			SlowAfterTokens: *slowAfter, SlowTokenDelay: *slowDelay},
	}
	ln, err := net.Listen("tcp", net.JoinHostPort(*host, strconv.Itoa(*port)))
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "vLLM simulator serving %s on http://%s (adapters autocomplete, prompt, comment, error_fix)\n", *model, ln.Addr())
	return sim.Serve(ctx, ln, sim.New(cfg))
}
