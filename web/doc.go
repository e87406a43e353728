// Package web is HAPA's HTTP edge: the server, routes.go (every URL in one place),
// middleware (one concern per file), REST and SSE handlers, the one error → HTTP
// mapping, and the OpenAPI document.
package web
