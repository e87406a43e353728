package main

import (
	"fmt"
	"net"
	"strconv"
	"time"

	"github.com/hapa-project/hapa/vllm/sim"
	"github.com/spf13/cobra"
)

// simCmd is `hapa sim`: the wire-faithful vLLM simulator on its own port
// (docs/vllm.md, "Simulator"; its flag tables are checked against these flags).
func simCmd(getenv func(string) string) *cobra.Command {
	c := &cobra.Command{
		Use:   "sim",
		Short: "Run the vLLM simulator (no GPU)",
		Long: `Run a vLLM simulator with the same wire format: /v1/models with the base model and the
four adapters (autocomplete, prompt, comment, error_fix), /v1/completions and
/v1/chat/completions streamed or not, usage, /health and vLLM's /metrics. Output is
plausible Python, deterministic for a seed and prompt. Fault flags make it misbehave.`,
		Example: `  hapa sim                                   # http://127.0.0.1:8002
  hapa sim --port 8003 --ttft 200ms --itl 20ms --jitter 5ms
  hapa sim --error-rate 0.1 --disconnect-after 20
  VLLM_SERVER_URL=http://127.0.0.1:8002 hapa serve`,
		Args: cobra.NoArgs,
	}
	fs := c.Flags()
	var (
		host      = fs.String("host", "127.0.0.1", "listen host")
		port      = fs.Int("port", 8002, "listen port (the original vLLM server's)")
		seed      = fs.Int64("seed", 1, "output and fault randomness")
		model     = fs.String("model", sim.DefaultModel, "base model name")
		apiKey    = fs.String("api-key", getenv("AI_MODEL_API_KEY"), "require Authorization: Bearer on /v1/* (like vllm --api-key; env AI_MODEL_API_KEY)")
		ttft      = fs.Duration("ttft", 40*time.Millisecond, "time to first token")
		itl       = fs.Duration("itl", 8*time.Millisecond, "inter-token latency")
		jitter    = fs.Duration("jitter", 0, "± jitter on TTFT and ITL")
		seqs      = fs.Int("max-num-seqs", 256, "concurrent sequences; more wait in a queue")
		maxLen    = fs.Int("max-model-len", 16384, "context length in tokens (longer prompts: 400)")
		errRate   = fs.Float64("error-rate", 0, "fraction of requests answered with a 500")
		okErr     = fs.Float64("ok-with-error-rate", 0, "fraction answered 200 with a JSON error body")
		midErr    = fs.Float64("error-in-stream-rate", 0, "fraction failing half-way with an error event")
		down      = fs.Bool("health-down", false, "GET /health answers 503")
		hang      = fs.Bool("hang", false, "send headers, then nothing before the first token")
		cut       = fs.Int("disconnect-after", 0, "drop the connection after N tokens (0 = never)")
		slowAfter = fs.Int("slow-after", 0, "tokens before --slow-delay applies")
		slowDelay = fs.Duration("slow-delay", 0, "extra delay per token after --slow-after")
	)
	c.RunE = func(c *cobra.Command, _ []string) error {
		ctx, stdout := c.Context(), c.OutOrStdout()
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
	return c
}
