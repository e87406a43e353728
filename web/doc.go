// Package web is HAPA's HTTP edge: the server, routes.go (every URL in one place),
// middleware (one concern per file), REST and SSE handlers, the one error → HTTP
// mapping, and the OpenAPI document.
//
// Middleware order, outermost first: request id (creates the per-request state),
// access log, X-Process-Time, security headers, CORS, panic recovery, body limit; then
// the router, which answers unmatched requests with the JSON error body (404 E4011,
// 405 E4001). Recovery sits inside the header middleware so that a panic's 500 still
// carries CORS and security headers.
//
// Invariants:
//   - Every error response goes through writeError (or writeSSEError on the SSE
//     routes): one body shape, the status from the realtime catalogue, incident ids for
//     5xx, internal detail only in the log.
//   - Request bodies are read with decodeJSON and checked with validator, so every
//     route reports bad input the same way (E4001/E4002/E4008/E4010 with field details).
//   - Handlers read the caller with callerFrom; credentials, tokens, prompts and bodies
//     are never logged.
//   - Account-scoped routes (users, settings, history) use userAuthed: the caller is a
//     user (JWT, or an API key created for a user) and sees only its own rows.
//   - The JWT logout denylist is in memory, per replica; tokens expire after AccessTTL.
//   - user_settings.profile holds a realtime.Profile (camelCase JSON) plus
//     commentTriggerMode; settings_catalogue.go is the one id ↔ profile mapping.
package web
