// Package vllm is HAPA's typed client of vLLM's OpenAI-compatible HTTP API.
//
// It holds the SSE decoder, the streaming client (a Stream reads like bufio.Scanner:
// Next, Delta, Err, Close) and its transport (each exchange runs in the caller's
// goroutine over pooled keep-alive connections), the replica Pool (health probing,
// least-in-flight balancing with rendezvous-hash affinity, circuit breaking, failover
// only before the first token), prompt templates (fill-in-the-middle per model family)
// and, in vllm/sim, a wire-faithful simulator.
//
// Invariants: nothing retries implicitly except the pool's failover before the first
// byte of a stream, and the transport's one re-send of a request whose reused
// keep-alive connection the server had already closed (no byte of a response came);
// closing a Stream or cancelling its context closes the upstream HTTP connection at
// once, because vLLM aborts generation only when the connection closes. Chunks are
// decoded by a small allocation-free scanner (fastjson*.go) that falls back to
// encoding/json for anything unusual; a differential fuzz test keeps the two in
// agreement. The package imports nothing internal and holds no package-level state.
package vllm
