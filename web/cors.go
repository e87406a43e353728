package web

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"

	"github.com/hapa-project/hapa/realtime"
)

// CORS policy constants: what a browser client (landing page, VS Code webview) may send
// and read.
const (
	corsAllowMethods  = "GET, POST, PUT, PATCH, DELETE, OPTIONS"
	corsAllowHeaders  = "X-API-Key, Authorization, Content-Type, Cache-Control, X-Request-ID, X-Test-Mode"
	corsExposeHeaders = "X-Request-ID, X-RateLimit-Limit, X-RateLimit-Remaining, X-RateLimit-Reset, Retry-After, X-Process-Time"
	corsMaxAge        = "600"
)

// originPattern is one ALLOWED_ORIGINS entry. Forms:
//
//	https://app.example.com[:port]  exact scheme, host and port
//	vscode-webview://*              any host with that scheme
//	https://*.example.com           any subdomain (not the apex), same port
//	vscode://                       scheme-only origins, matched literally
//	*                               any origin, but then without credentials
type originPattern struct {
	any        bool
	scheme     string
	host       string // exact host ("" with anyHost)
	hostSuffix string // ".example.com" for "*.example.com"
	anyHost    bool
	port       string
	literal    string // entries without a host, compared as a whole
}

// originPolicy is the parsed ALLOWED_ORIGINS list.
type originPolicy []originPattern

// parseOrigins parses ALLOWED_ORIGINS entries; malformed entries are an error so that a
// typo fails at start instead of silently locking a client out.
func parseOrigins(entries []string) (originPolicy, error) {
	var p originPolicy
	for _, raw := range entries {
		e := strings.TrimSpace(raw)
		if e == "" {
			continue
		}
		if e == "*" {
			p = append(p, originPattern{any: true})
			continue
		}
		scheme, rest, ok := strings.Cut(e, "://")
		if !ok || scheme == "" {
			return nil, fmt.Errorf("web: allowed origin %q: want scheme://host[:port]", raw)
		}
		scheme = strings.ToLower(scheme)
		rest = strings.TrimSuffix(rest, "/")
		if rest == "" {
			p = append(p, originPattern{literal: scheme + "://"})
			continue
		}
		if strings.ContainsAny(rest, "/?#@") {
			return nil, fmt.Errorf("web: allowed origin %q: no path, query or user info allowed", raw)
		}
		host, port := splitHostPort(strings.ToLower(rest))
		pat := originPattern{scheme: scheme, port: port}
		switch {
		case host == "*":
			pat.anyHost = true
		case strings.HasPrefix(host, "*."):
			pat.hostSuffix = host[1:]
			if strings.Contains(pat.hostSuffix[1:], "*") || len(pat.hostSuffix) < 2 {
				return nil, fmt.Errorf("web: allowed origin %q: bad wildcard", raw)
			}
		case strings.Contains(host, "*"):
			return nil, fmt.Errorf("web: allowed origin %q: '*' only as the whole host or a leading '*.'", raw)
		default:
			pat.host = host
		}
		p = append(p, pat)
	}
	return p, nil
}

// splitHostPort splits "host[:port]", keeping bracketed IPv6 hosts intact.
func splitHostPort(hp string) (host, port string) {
	if i := strings.LastIndexByte(hp, ':'); i >= 0 && !strings.Contains(hp[i:], "]") {
		return hp[:i], hp[i+1:]
	}
	return hp, ""
}

// match reports whether origin is allowed and whether credentials may be allowed for it.
func (p originPolicy) match(origin string) bool {
	if origin == "" || origin == "null" {
		return false
	}
	lower := strings.ToLower(origin)
	u, err := url.Parse(lower)
	scheme, host, port := "", "", ""
	if err == nil && u.Scheme != "" && u.Host != "" && (u.Path == "" || u.Path == "/") && u.RawQuery == "" && u.User == nil {
		scheme = u.Scheme
		host, port = splitHostPort(u.Host)
	}
	wildcard := false
	for _, pat := range p {
		switch {
		case pat.any:
			wildcard = true
		case pat.literal != "":
			if lower == pat.literal {
				return true
			}
		case scheme == "" || pat.scheme != scheme:
		case pat.anyHost:
			if pat.port == "" || pat.port == port {
				return true
			}
		case pat.hostSuffix != "":
			if strings.HasSuffix(host, pat.hostSuffix) && len(host) > len(pat.hostSuffix) && pat.port == port {
				return true
			}
		case pat.host == host && pat.port == port:
			return true
		}
	}
	return wildcard
}

// cors answers preflight requests and adds CORS headers to allowed cross-origin
// requests. The allowed origin is always echoed (never "*"), with Vary: Origin. A
// preflight from a disallowed origin gets 403 E4013; a plain request from one is served
// without CORS headers, so the browser withholds the response.
//
// Credentials are never allowed: the API authenticates by header (X-API-Key,
// Authorization), never by cookie, and the admin console, which does use a cookie, gets
// no CORS headers at all — SameSite=Strict does not stop a same-site page on another
// port or subdomain (say the landing page on :3000) from sending that cookie.
func (s *Server) cors(policy originPolicy) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			origin := r.Header.Get("Origin")
			if origin == "" || strings.HasPrefix(r.URL.Path, "/admin/") {
				next.ServeHTTP(w, r)
				return
			}
			h := w.Header()
			h.Add("Vary", "Origin")
			ok := policy.match(origin)
			preflight := r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != ""
			if preflight {
				h.Add("Vary", "Access-Control-Request-Method")
				h.Add("Vary", "Access-Control-Request-Headers")
				if !ok {
					s.writeError(w, r, realtime.NewError(realtime.CodeOriginNotAllowed, ""))
					return
				}
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Allow-Methods", corsAllowMethods)
				h.Set("Access-Control-Allow-Headers", corsAllowHeaders)
				h.Set("Access-Control-Max-Age", corsMaxAge)
				w.WriteHeader(http.StatusNoContent)
				return
			}
			if ok {
				h.Set("Access-Control-Allow-Origin", origin)
				h.Set("Access-Control-Expose-Headers", corsExposeHeaders)
			}
			next.ServeHTTP(w, r)
		})
	}
}
