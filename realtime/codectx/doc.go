// Package codectx puts the editor's context into prompts (docs/vllm.md, "Path header
// and context files"; docs/api.md, "Context snippets"): the languages a model family
// completes and how a file path names one, a cheap token estimate, and the packer that
// ranks context snippets against the code around the cursor (BM25 over identifier
// tokens) and keeps the best within a token budget, cut on line boundaries.
//
// Invariants:
//   - Everything is deterministic: the same input gives the same prompt byte for byte
//     (the response cache keys on it), whatever the order map iteration or timing.
//   - The packed context never exceeds the byte budget it is given, headers included;
//     BuildFIM and Related derive that budget from the token budget and, when the
//     model's context length is known, from the room the request leaves in it,
//     counting one token per byte so a request that fits without context still fits
//     with it.
//   - No package-level mutable state; the tables below are read-only.
//
// It imports only vllm (for the families and the FIM template); realtime is its one
// consumer besides the benchmark (cmd/hapa/bench).
package codectx
