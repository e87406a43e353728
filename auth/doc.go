// Package auth turns credentials into a realtime.Caller, for every transport alike
// (REST, SSE and /v1 in web, the editor socket in realtime/ws).
//
// A caller presents one credential (credential.go): X-API-Key, Authorization: Bearer
// with an API key ("hapa_…") or a JWT, or — browsers opening a WebSocket, which cannot
// set headers — the subprotocol "hapa.auth.<key>". API keys are looked up by SHA-256
// hash through a short-lived cache (keys.go); JWTs are HS256 access and refresh tokens
// with a jti that logout puts on a denylist until the token expires (tokens.go,
// denylist.go). The socket side (socket.go) adds the scope check of the upgrade and
// the periodic re-check of a live socket's key.
//
// Failures are catalogue errors: E4003 invalid or missing credential, E4006 expired,
// E4007 revoked, E4005 missing scope, E5003 when the database cannot answer.
//
// Dependency direction: auth imports realtime (the Caller and the error catalogue
// that every transport speaks) and store; realtime never imports auth. See
// docs/architecture.md.
package auth
