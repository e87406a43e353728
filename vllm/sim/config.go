package sim

import "time"

// DefaultModel is the base model the simulator serves unless told otherwise: the one
// the original HAPA deployed.
const DefaultModel = "deepseek-ai/deepseek-coder-6.7b-instruct"

// Config configures a Server. Zero fields mean the documented defaults.
type Config struct {
	Seed        int64         // output and fault randomness; same seed, same answers
	Model       string        // base model name; default DefaultModel
	Adapters    []string      // LoRA adapters served; default autocomplete, prompt, comment, error_fix
	APIKey      string        // like vllm --api-key: /v1/* then needs Authorization: Bearer
	TTFT        time.Duration // time to first token, after a sequence slot is free
	ITL         time.Duration // inter-token latency
	Jitter      time.Duration // ± uniform jitter added to TTFT and each ITL
	MaxNumSeqs  int           // concurrent sequences (vllm --max-num-seqs); default 256
	MaxModelLen int           // context length in tokens (prompt + max_tokens); default 16384

	Faults // initial fault injection; change at run time with Server.SetFaults
}

// Faults are the injected failures. Rates are probabilities per request in [0, 1],
// drawn from the seeded generator.
type Faults struct {
	ErrorRate   float64 // answer with ErrorStatus and a JSON error before streaming
	ErrorStatus int     // status of those errors; default 500
	// OKWithErrorRate answers HTTP 200 with a JSON error body (application/json), as
	// some proxies in front of vLLM do.
	OKWithErrorRate float64
	// ErrorInStreamRate sends one `data: {"error":…}` event halfway through the
	// stream, then [DONE], as vLLM does when generation fails mid-way.
	ErrorInStreamRate float64
	HealthDown        bool // GET /health answers 503 (engine dead)
	// HangBeforeFirstToken sends the response headers and then nothing until the
	// client goes away (counted as an abort).
	HangBeforeFirstToken bool
	// DisconnectAfterTokens > 0 drops the connection, without [DONE], after that many
	// tokens.
	DisconnectAfterTokens int
	// SlowTokenDelay is added before every token after the first SlowAfterTokens
	// (an idle gap for the client's idle timeout).
	SlowAfterTokens int
	SlowTokenDelay  time.Duration
}

func (c Config) withDefaults() Config {
	if c.Model == "" {
		c.Model = DefaultModel
	}
	if c.Adapters == nil {
		c.Adapters = []string{"autocomplete", "prompt", "comment", "error_fix"}
	}
	if c.MaxNumSeqs <= 0 {
		c.MaxNumSeqs = 256
	}
	if c.MaxModelLen <= 0 {
		c.MaxModelLen = 16384
	}
	return c
}
