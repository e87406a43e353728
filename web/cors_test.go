package web

import (
	"net/http"
	"strings"
	"testing"
)

func TestOriginPolicy(t *testing.T) {
	p, err := parseOrigins([]string{"http://localhost:3000", "vscode-webview://*", "https://*.example.com", "vscode://", " HTTPS://App.Example.org "})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		origin string
		ok     bool
	}{
		{"http://localhost:3000", true},
		{"http://localhost:3001", false},
		{"http://localhost", false},
		{"https://localhost:3000", false},
		{"http://localhost:3000.evil.com", false},
		{"vscode-webview://1a2b3c4d5e", true},
		{"vscode-webview://anything-at-all", true},
		{"vscode-webviewx://abc", false},
		{"https://api.example.com", true},
		{"https://a.b.example.com", true},
		{"https://example.com", false},
		{"https://evilexample.com", false},
		{"http://api.example.com", false},
		{"https://app.example.org", true},
		{"vscode://", true},
		{"null", false},
		{"", false},
		{"http://localhost:3000/path", false},
	}
	for _, tc := range cases {
		if ok := p.match(tc.origin); ok != tc.ok {
			t.Errorf("match(%q) = %v; want %v", tc.origin, ok, tc.ok)
		}
	}
	star, _ := parseOrigins([]string{"*"})
	if !star.match("https://any.where") {
		t.Error(`"*" must allow any origin`)
	}
	for _, bad := range []string{"localhost:3000", "http://a.com/path", "http://a*b.com", "https://*.", "://x"} {
		if _, err := parseOrigins([]string{bad}); err == nil {
			t.Errorf("parseOrigins(%q) accepted", bad)
		}
	}
}

func TestCORS(t *testing.T) {
	env := newEnv(t)
	t.Run("preflight allowed", func(t *testing.T) {
		r := env.do("OPTIONS", "/api/v1/code/generate/stream", nil,
			"Origin", "http://localhost:3000", "Access-Control-Request-Method", "POST",
			"Access-Control-Request-Headers", "x-api-key, content-type, cache-control")
		if r.StatusCode != 204 {
			t.Fatalf("status = %d %s", r.StatusCode, r.body)
		}
		h := r.Header
		if h.Get("Access-Control-Allow-Origin") != "http://localhost:3000" || h.Get("Access-Control-Allow-Credentials") != "" {
			t.Errorf("allow-origin %q creds %q", h.Get("Access-Control-Allow-Origin"), h.Get("Access-Control-Allow-Credentials"))
		}
		for _, want := range []string{"X-API-Key", "Authorization", "Content-Type", "Cache-Control", "X-Request-ID", "X-Test-Mode"} {
			if !strings.Contains(h.Get("Access-Control-Allow-Headers"), want) {
				t.Errorf("Allow-Headers lacks %s", want)
			}
		}
		if !strings.Contains(h.Get("Access-Control-Allow-Methods"), "POST") {
			t.Errorf("Allow-Methods = %q", h.Get("Access-Control-Allow-Methods"))
		}
		if !strings.Contains(strings.Join(h.Values("Vary"), ","), "Origin") {
			t.Error("no Vary: Origin")
		}
	})
	t.Run("preflight webview wildcard", func(t *testing.T) {
		r := env.do("OPTIONS", "/health", nil, "Origin", "vscode-webview://0abc", "Access-Control-Request-Method", "GET")
		if r.StatusCode != 204 || r.Header.Get("Access-Control-Allow-Origin") != "vscode-webview://0abc" {
			t.Fatalf("status %d, allow-origin %q", r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("preflight denied", func(t *testing.T) {
		r := env.do("OPTIONS", "/health", nil, "Origin", "https://evil.example", "Access-Control-Request-Method", "GET")
		checkError(t, r, 403, "E4013")
		if r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Error("denied preflight carries Allow-Origin")
		}
	})
	t.Run("simple request allowed exposes headers", func(t *testing.T) {
		r := env.do("GET", "/health", nil, "Origin", "http://localhost:3000")
		if r.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" {
			t.Errorf("allow-origin = %q", r.Header.Get("Access-Control-Allow-Origin"))
		}
		for _, want := range []string{"X-Request-ID", "X-RateLimit-Remaining", "Retry-After", "X-Process-Time"} {
			if !strings.Contains(r.Header.Get("Access-Control-Expose-Headers"), want) {
				t.Errorf("Expose-Headers lacks %s", want)
			}
		}
	})
	t.Run("simple request from other origin gets no CORS headers", func(t *testing.T) {
		r := env.do("GET", "/health", nil, "Origin", "https://evil.example")
		if r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != "" {
			t.Errorf("status %d allow-origin %q", r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
		}
	})
	t.Run("error responses carry CORS headers", func(t *testing.T) {
		r := env.do("GET", "/nope", nil, "Origin", "http://localhost:3000")
		if r.StatusCode != 404 || r.Header.Get("Access-Control-Allow-Origin") == "" {
			t.Errorf("status %d allow-origin %q", r.StatusCode, r.Header.Get("Access-Control-Allow-Origin"))
		}
	})
}

// TestCORSNeverCoversTheConsole: the console authenticates by cookie, so no origin may
// read it, even an allowed one on the same site (SameSite=Strict ignores ports).
func TestCORSNeverCoversTheConsole(t *testing.T) {
	env := newEnv(t, func(_ *Config, d *Deps) {
		d.Admin = http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.Write([]byte("console")) })
	})
	r := env.do("GET", "/admin/keys", nil, "Origin", "http://localhost:3000")
	if r.StatusCode != 200 || r.Header.Get("Access-Control-Allow-Origin") != "" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("console answered with CORS headers: %d %v", r.StatusCode, r.Header)
	}
	r = env.do("GET", "/health", nil, "Origin", "http://localhost:3000")
	if r.Header.Get("Access-Control-Allow-Origin") != "http://localhost:3000" || r.Header.Get("Access-Control-Allow-Credentials") != "" {
		t.Fatalf("API CORS headers: %v", r.Header)
	}
}
