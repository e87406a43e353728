// Package realtime is HAPA's core: the generation engine every transport shares, the
// editor WebSocket sessions (protocol hapa.v1), and the error catalogue.
//
// Engine (engine.go and friends): a Request is validated (validate.go, the one place
// that says "Python only"), personalised (profile.go, prompt.go, instructions.go),
// looked up in the response cache (cache.go), coalesced with identical in-flight
// requests (flight.go) and streamed from the Upstream; every subscriber reads its own
// Stream with its own offset into the flight's buffer, so a slow reader gets merged
// text and a late joiner gets the prefix first. A flight starts when its first reader
// reads: a lone reader with the Start context reads the upstream in its own goroutine
// (pulls; no flight goroutine), and a flight with several subscribers, or read with
// another context, runs in a goroutine of its own that no reader can slow down
// (upstream.go). The upstream request is cancelled when the last subscriber leaves.
// One request-log row is written per subscription through a bounded, batched writer
// (requestlog.go).
//
// Sessions (hub.go, session*.go, message.go, ws_handler.go): an idle socket holds no
// goroutine (its reader parks in a process-wide epoll set, the writer runs while
// frames are queued, pings and key re-checks are timers); a bounded send queue where
// pending deltas of a stream merge into one frame (seq stays gap-free, text is never
// dropped). Every
// accepted create ends with exactly one stream.done or stream.error. Close codes:
// 1000 normal, 1001 going away, 1008 policy (frame flood), 1009 frame too big,
// 1011 internal, 1012 restart (after session.closing), 4001 key revoked or expired,
// 4008 slow consumer, 4029 too many connections for the key. docs/protocol.md is the
// full protocol.
//
// Errors (errors.go): the 22 catalogue codes; web maps them to HTTP, sessions to
// stream.error frames. Limits (limits*.go, quota*.go), incidents (incidents.go,
// retention.go), metrics (metrics*.go) and cross-replica events (events.go) are
// shared by REST and WebSocket.
//
// Dependency direction: realtime imports vllm and store only; it declares the small
// interfaces it consumes (Upstream, Cache, LogStore, Profiles, Incidents,
// Authenticator, Admitter) and is wired in cmd/hapa.
package realtime
