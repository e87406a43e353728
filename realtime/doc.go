// Package realtime is HAPA's generation engine, which every transport shares (web's
// REST, SSE and /v1 routes; the editor socket in realtime/ws), and the vocabulary they
// speak: Request, Stream, Event, Caller and the error catalogue.
//
// Engine (engine.go and friends): a Request is validated (validate.go; language.go
// decides which programming languages it may name: the model family's for FIM, Python
// for chat), personalised (profile.go, prompt.go, instructions.go), given the editor's
// context within the token budget and the model's context length (context.go over the
// realtime/codectx packer), looked up in the response cache (cache.go), coalesced with identical in-flight
// requests (flight.go) and streamed from the Upstream; every subscriber reads its own
// Stream with its own offset into the flight's buffer, so a slow reader gets merged
// text and a late joiner gets the prefix first. A flight starts when its first reader
// reads: a lone reader with the Start context reads the upstream in its own goroutine
// (pulls; no flight goroutine), and a flight with several subscribers, or read with
// another context, runs in a goroutine of its own that no reader can slow down
// (upstream.go). The upstream request is cancelled when the last subscriber leaves.
// One request-log row is written per subscription through a bounded, batched writer
// (requestlog.go). docs/architecture.md explains flights at length.
//
// Errors (errors.go): the 22 catalogue codes; web maps them to HTTP, realtime/ws to
// stream.error frames and close codes. Incidents (incidents.go, retention.go),
// metrics (metrics*.go) and cross-replica events (events.go) are shared by every
// edge; rate limits and quotas live in realtime/limits.
//
// Dependency direction: realtime imports vllm and store only; it declares the small
// interfaces it consumes (Upstream, Cache, LogStore, Profiles, Incidents,
// EngineObserver in deps.go) and is wired in cmd/hapa.
package realtime
