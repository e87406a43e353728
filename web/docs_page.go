package web

import (
	"html/template"
	"net/http"

	"github.com/hapa-project/hapa/static"
)

// docsCSP is the policy of /docs, the shape of the admin console's: scripts and styles
// only from this origin (the vendored Swagger UI and static/js/docs.js; nothing
// inline), images from here or data: URLs, requests (try it out) only to this origin.
const docsCSP = "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"connect-src 'self'; font-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"

// docsPage is the interactive reference: Swagger UI (vendored, static/VENDOR.md) over
// /openapi.json, with try-it-out against this server.
var docsPage = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>HAPA API reference</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<link rel="icon" href="{{.Favicon}}">
<link rel="stylesheet" href="{{.CSS}}">
</head><body>
<noscript><p>The interactive reference needs JavaScript. The document itself:
<a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1); the prose reference is docs/api.md.</p></noscript>
<div id="swagger-ui" data-spec="/openapi.json"></div>
<script src="{{.Bundle}}"></script>
<script src="{{.Init}}"></script>
</body></html>`))

// handleDocs serves GET /docs.
func (s *Server) handleDocs(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", docsCSP)
	h.Set("Cache-Control", "no-cache")
	_ = docsPage.Execute(w, map[string]string{
		"Favicon": static.Path("img/favicon.svg"),
		"CSS":     static.Path("css/swagger-ui.css"),
		"Bundle":  static.Path("js/swagger-ui-bundle.js"),
		"Init":    static.Path("js/docs.js"),
	})
}
