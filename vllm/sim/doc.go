// Package sim is a wire-faithful vLLM simulator (served by `hapa sim` and started
// in-process when no VLLM_SERVER_URL is set): /v1/completions, /v1/chat/completions,
// /v1/models, /health, /metrics and /version with vLLM's shapes, a latency model and
// fault injection. Tests use it as the upstream over loopback (httptest.NewServer(sim.New(cfg))).
//
// Wire behaviour mirrors vLLM's OpenAI-compatible server: a stream is one
// `data: <json>\n\n` per token (the chat stream starts with a delta
// {"role":"assistant","content":""}), finish_reason on the last token chunk (or an
// empty chunk with stop_reason when a stop string matched), a `"choices":[]` usage
// chunk only with stream_options.include_usage, then `data: [DONE]`. Errors use the
// nested shape of vLLM >= 0.10.1 ({"error":{"message","type","param","code"}});
// --api-key answers 401 {"error":"Unauthorized"} on /v1/*. /v1/completions without
// max_tokens generates 16 tokens, as vLLM does.
//
// Tokens are whitespace-glued words or single punctuation bytes (see tokens.go), so
// usage.completion_tokens equals the number of text chunks sent. Output is plausible
// Python chosen by adapter (prompt: fenced code and an explanation; autocomplete: a
// short continuation; comment: a docstring; error_fix: fixed code and a
// "--- Fix Explanation ---"), a pure function of (Seed, model, prompt, temperature,
// seed parameter).
//
// Latency model: headers are sent at once, then the request waits for one of
// MaxNumSeqs sequence slots (vllm:num_requests_waiting), then TTFT, then ITL per token,
// each ± Jitter. With TTFT = ITL = 0 no timer is created at all. When the client goes
// away (its context ends) generation stops at the next token and the request counts
// as aborted: Stats().Aborted, WaitAborted, and
// vllm:request_success_total{finished_reason="abort"} in /metrics.
//
// Flags `hapa sim` is expected to expose, one per Config field:
//
//	--addr :8002                 listen address (ListenAndServe)
//	--seed 0                     Seed
//	--model deepseek-ai/deepseek-coder-6.7b-instruct
//	--adapters autocomplete,prompt,comment,error_fix
//	--api-key ""                 APIKey (env AI_MODEL_API_KEY)
//	--ttft 0s --itl 0s --jitter 0s
//	--max-num-seqs 256 --max-model-len 16384
//	--error-rate 0 --error-status 500 --ok-with-error-rate 0 --error-in-stream-rate 0
//	--health-down --hang-before-first-token --disconnect-after-tokens 0
//	--slow-after-tokens 0 --slow-token-delay 0s
//
// Invariants: no package-level mutable state; every Server is independent; the
// handler never blocks past its request's context.
package sim
