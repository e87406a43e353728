// Package admin is HAPA's browser admin console: templ pages and their handlers under
// /admin/ (login, overview, errors, cache, keys, users, upstreams, playground).
package admin
