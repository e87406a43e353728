// Package bench is HAPA's load generator, its scenario suite and the writer of
// docs/performance.md (`hapa bench run`, `hapa bench suite`, `make bench`).
//
// Invariants:
//   - Open-loop runs schedule request i at start + i/rate and measure its latency from
//     that intended send time, not from when a goroutine got round to sending it, so a
//     stalled server shows up as latency instead of hiding behind fewer requests
//     (no coordinated omission).
//   - Closed-loop runs keep exactly Concurrency requests in flight.
//   - Every loop is bounded by a duration and a request cap; traffic goes only to the
//     URLs given (the suite uses 127.0.0.1 only).
//   - Percentiles are computed over every sample (sorted), nearest-rank.
package bench
