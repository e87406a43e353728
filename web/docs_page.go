package web

import (
	"html/template"
	"net/http"
	"strings"
)

// docsCSP lets /docs use its one inline stylesheet and nothing else.
const docsCSP = "default-src 'none'; style-src 'unsafe-inline'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'"

// docsPage renders the operations of the OpenAPI document, grouped by tag; it is
// server-rendered and self-contained (no script, no CDN).
var docsPage = template.Must(template.New("docs").Parse(`<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>HAPA API</title>
<meta name="viewport" content="width=device-width, initial-scale=1">
<style>
body{font:15px/1.5 system-ui,sans-serif;margin:2rem auto;max-width:960px;padding:0 1rem;color:#1d2430}
h1{margin-bottom:0}h2{border-bottom:1px solid #dde;padding-bottom:.2rem;margin-top:2rem;text-transform:capitalize}
.op{display:grid;grid-template-columns:5.5rem 1fr;gap:.2rem 1rem;padding:.45rem 0;border-bottom:1px solid #f0f0f4}
.m{font:600 12px monospace;padding:.15rem .4rem;border-radius:3px;color:#fff;text-align:center;height:1.2rem}
.GET{background:#2f7d32}.POST{background:#1565c0}.DELETE{background:#c62828}.PUT{background:#ef6c00}
code{font:13px monospace}.meta{color:#5b6372;font-size:13px}
</style></head><body>
<h1>HAPA API</h1>
<p class="meta">Version {{.Version}} · machine-readable: <a href="/openapi.json">/openapi.json</a> (OpenAPI 3.1) ·
WebSocket protocol: <code>GET /api/v1/realtime</code>, subprotocol <code>hapa.v1</code>.
Authenticate with <code>X-API-Key</code> or <code>Authorization: Bearer</code>. Errors share one JSON body with
<code>error_code</code> (E4xxx client, E5xxx server) and, for 5xx, <code>incident_id</code>.</p>
{{range .Tags}}<h2>{{.Name}}</h2>
{{range .Ops}}<div class="op"><span class="m {{.Method}}">{{.Method}}</span><div><code>{{.Path}}</code>{{if .Query}} <span class="meta">?{{.Query}}</span>{{end}}<br>{{.Summary}}
<div class="meta">{{.Auth}}{{if .Body}} · body <code>{{.Body}}</code>{{end}}{{if .SSE}} · text/event-stream{{end}}{{if .Group}} · rate limit group <code>{{.Group}}</code>{{end}}</div></div></div>
{{end}}{{end}}
</body></html>`))

type docsOp struct {
	Method, Path, Summary, Auth, Body, Query, Group string
	SSE                                             bool
}

type docsTag struct {
	Name string
	Ops  []docsOp
}

// handleDocs serves GET /docs.
func (s *Server) handleDocs(w http.ResponseWriter, r *http.Request) {
	var tags []docsTag
	index := map[string]int{}
	for _, op := range apiOps() {
		i, ok := index[op.tag]
		if !ok {
			i = len(tags)
			index[op.tag] = i
			tags = append(tags, docsTag{Name: op.tag})
		}
		auth := map[string]string{"": "public", "key": "API key or JWT", "admin": "admin scope", "user": "signed-in user"}[op.auth]
		tags[i].Ops = append(tags[i].Ops, docsOp{Method: op.method, Path: op.path, Summary: op.summary, Auth: auth,
			Body: op.body, Query: strings.Join(op.query, "&"), Group: op.group, SSE: op.sse})
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", docsCSP)
	h.Set("Cache-Control", "no-cache")
	_ = docsPage.Execute(w, struct {
		Version string
		Tags    []docsTag
	}{s.cfg.Version, tags})
}
