// Package sim is a wire-faithful vLLM simulator (served by `hapa sim` and started
// in-process when no VLLM_SERVER_URL is set): /v1/completions, /v1/chat/completions,
// /v1/models, /health and /metrics with vLLM's shapes, a latency model and fault
// injection.
package sim
