// Package admin is HAPA's browser admin console: templ pages and their handlers under
// /admin/ (login, overview, errors, cache, keys, users, upstreams, playground).
//
// One page is a handler file (<page>.go), a templ view (<page>.templ) and the committed
// generated code (<page>_templ.go, `make generate`). Views take typed structs.
//
// Invariants:
//   - Every route except the login form requires a live session in admin_sessions; the
//     cookie carries a random 32-byte token and the table only its SHA-256. Sessions end
//     after Config.SessionIdle without a request or Config.SessionAbsolute after login.
//   - Every state-changing request is a POST behind http.CrossOriginProtection, and the
//     cookie is SameSite=Strict; a cross-site POST gets 403.
//   - Every response carries a Content-Security-Policy with a fresh nonce; pages have no
//     inline handlers or style attributes, and the only inline script (the playground's
//     import map) carries the nonce.
//   - A plaintext API key appears only in the response that created or rotated it (and
//     the playground's own short-lived key in its page); it is never put in a URL.
//   - Deps.OnRevoke is called after every revocation the console performs.
package admin
