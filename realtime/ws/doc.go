// Package ws is the editor WebSocket transport (protocol hapa.v1, docs/protocol.md): a
// transport over the engine's Starter/Request/Event, as web is for HTTP.
//
// Hub (hub.go, handler.go) accepts sockets after the checks of the upgrade (shutdown,
// Origin, subprotocol, authentication through auth.Authenticator), counts them per
// key, closes a key's sockets on revocation, and shuts them down in order
// (http.Server.Shutdown ignores hijacked connections). A session (session*.go) is one
// socket: an idle socket holds no goroutine (its reader parks in a process-wide epoll
// set, poller*.go; the writer runs while frames are queued; pings and key re-checks
// are timers); a bounded send queue (sendqueue.go) merges pending deltas of a stream
// into one frame (seq stays gap-free, text is never dropped); client frames are rate
// limited (framelimit.go).
//
// Invariants: every accepted create ends with exactly one stream.done or stream.error;
// session.created is the first frame; frames are written only by the session's
// writer. Close codes: 1000 normal, 1001 going away, 1008 policy (frame flood), 1009
// frame too big, 1011 internal, 1012 restart (after session.closing), 4001 key
// revoked or expired, 4008 slow consumer, 4029 too many connections for the key.
//
// ws imports realtime and auth; realtime/ws/wsclient is a Go client of the protocol.
package ws
