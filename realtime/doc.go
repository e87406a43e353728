// Package realtime is HAPA's core: the generation engine every transport shares
// (request → personalised prompt → cache → coalescing → upstream → stream fan-out),
// editor sessions over WebSocket (protocol hapa.v1, see docs/protocol.md), and the
// error catalogue (errors.go) that both transports map from.
//
// Dependency direction: realtime imports vllm and store only. It declares the small
// interfaces it needs (Upstream, Cache, Log, …) and is built in cmd/hapa.
package realtime
