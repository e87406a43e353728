package web

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

func TestRequestID(t *testing.T) {
	env := newEnv(t)
	t.Run("propagated", func(t *testing.T) {
		r := env.do("GET", "/nope", nil, "X-Request-ID", "client-id_123:abc.9")
		if r.Header.Get("X-Request-ID") != "client-id_123:abc.9" {
			t.Fatalf("header = %q", r.Header.Get("X-Request-ID"))
		}
		if m := r.json(t); m["request_id"] != "client-id_123:abc.9" {
			t.Errorf("body request_id = %v", m["request_id"])
		}
		if !strings.Contains(env.logs.String(), `"request_id":"client-id_123:abc.9"`) {
			t.Error("access log lacks the request id")
		}
	})
	for name, bad := range map[string]string{"absent": "", "invalid chars": "a b<script>", "too long": strings.Repeat("x", 129)} {
		t.Run("generated when "+name, func(t *testing.T) {
			r := env.do("GET", "/health", nil, "X-Request-ID", bad)
			got := r.Header.Get("X-Request-ID")
			if got == bad || !strings.HasPrefix(got, "req_") || len(got) != 20 {
				t.Errorf("request id = %q", got)
			}
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	env := newEnv(t)
	api := env.do("GET", "/api/v1/health", nil)
	root := env.do("GET", "/health", nil)
	for name, r := range map[string]resp{"api": api, "root": root} {
		h := r.Header
		if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("X-Frame-Options") != "DENY" || h.Get("Referrer-Policy") == "" {
			t.Errorf("%s: basic security headers missing: %v", name, h)
		}
		if !strings.Contains(h.Get("Content-Security-Policy"), "default-src 'none'") {
			t.Errorf("%s: CSP = %q", name, h.Get("Content-Security-Policy"))
		}
		if h.Get("Strict-Transport-Security") != "" {
			t.Errorf("%s: HSTS on plain HTTP", name)
		}
		if h.Get("X-Process-Time") == "" {
			t.Errorf("%s: no X-Process-Time", name)
		}
	}
	if api.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("/api Cache-Control = %q", api.Header.Get("Cache-Control"))
	}
	if root.Header.Get("Cache-Control") == "no-store" {
		t.Error("Cache-Control: no-store outside /api")
	}
}

func TestHandlerCSPIsKept(t *testing.T) {
	admin := http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'")
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("<html></html>"))
	})
	env := newEnv(t, func(_ *Config, d *Deps) { d.Admin = admin })
	r := env.do("GET", "/admin/", nil)
	if r.StatusCode != 200 || r.Header.Get("Content-Security-Policy") != "default-src 'self'" {
		t.Errorf("status %d CSP %q", r.StatusCode, r.Header.Get("Content-Security-Policy"))
	}
}

func TestTLSGetsHSTS(t *testing.T) {
	h := securityHeaders(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {}))
	rec := newRecorder()
	req, _ := http.NewRequest("GET", "https://x/api/v1/health", nil)
	req.TLS = fakeTLS()
	h.ServeHTTP(rec, req)
	if rec.Header().Get("Strict-Transport-Security") == "" {
		t.Error("no HSTS over TLS")
	}
}

func TestHeadersOnEmptyResponse(t *testing.T) {
	env := newEnv(t)
	r := doTo(t, probeServer(t, env), "GET", "/test/empty", nil)
	if r.StatusCode != 200 || r.Header.Get("X-Process-Time") == "" || r.Header.Get("Content-Security-Policy") == "" {
		t.Errorf("status %d headers %v", r.StatusCode, r.Header)
	}
}

// TestBodyDeadlineDoesNotCancelStreams: once the body is read, a handler that keeps
// working past the body read deadline keeps a live context.
func TestBodyDeadlineDoesNotCancelStreams(t *testing.T) {
	env := newEnv(t, func(c *Config, _ *Deps) { c.BodyReadTimeout = 30 * time.Millisecond })
	r := doTo(t, probeServer(t, env), "POST", "/test/slow", `{"a":1}`)
	if r.StatusCode != 200 || r.json(t)["ctx"] != "alive" {
		t.Errorf("%d %s", r.StatusCode, r.body)
	}
}
