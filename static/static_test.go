package static

import (
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestPathIsHashed(t *testing.T) {
	for _, name := range []string{"css/admin.css", "js/htmx.min.js", "js/admin.js", "img/favicon.svg"} {
		t.Run(name, func(t *testing.T) {
			p := Path(name)
			re := regexp.MustCompile(`^/static/[a-z/]+[a-z.]*\.[0-9a-f]{10}\.(css|js|svg)$`)
			if !re.MatchString(p) {
				t.Fatalf("Path(%q) = %q, want a hashed URL", name, p)
			}
			if Path(name) != p {
				t.Fatal("Path is not stable")
			}
		})
	}
	if got := Path("nope.css"); got != "/static/nope.css" {
		t.Fatalf("unknown asset: %q", got)
	}
}

func TestHandler(t *testing.T) {
	h := Handler()
	get := func(method, path string, hdr map[string]string) *http.Response {
		req := httptest.NewRequest(method, path, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		w := httptest.NewRecorder()
		h.ServeHTTP(w, req)
		return w.Result()
	}
	hashed := Path("css/admin.css")
	tests := []struct {
		name, method, path string
		hdr                map[string]string
		status             int
		cache, ctype       string
	}{
		{"hashed", "GET", hashed, nil, 200, "public, max-age=31536000, immutable", "text/css; charset=utf-8"},
		{"plain", "GET", "/static/css/admin.css", nil, 200, "no-cache", "text/css; charset=utf-8"},
		{"js", "GET", Path("js/htmx.min.js"), nil, 200, "public, max-age=31536000, immutable", "text/javascript; charset=utf-8"},
		{"head", "HEAD", hashed, nil, 200, "public, max-age=31536000, immutable", "text/css; charset=utf-8"},
		{"missing", "GET", "/static/css/nope.css", nil, 404, "", ""},
		{"wrong hash", "GET", "/static/css/admin.0000000000.css", nil, 404, "", ""},
		{"post", "POST", hashed, nil, 405, "", ""},
		{"traversal", "GET", "/static/../static.go", nil, 404, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := get(tt.method, tt.path, tt.hdr)
			if res.StatusCode != tt.status {
				t.Fatalf("status %d, want %d", res.StatusCode, tt.status)
			}
			if tt.cache != "" && res.Header.Get("Cache-Control") != tt.cache {
				t.Errorf("Cache-Control %q, want %q", res.Header.Get("Cache-Control"), tt.cache)
			}
			if tt.ctype != "" && res.Header.Get("Content-Type") != tt.ctype {
				t.Errorf("Content-Type %q, want %q", res.Header.Get("Content-Type"), tt.ctype)
			}
			if tt.status == 200 && res.Header.Get("X-Content-Type-Options") != "nosniff" {
				t.Error("no nosniff")
			}
		})
	}
	t.Run("etag", func(t *testing.T) {
		res := get("GET", hashed, nil)
		etag := res.Header.Get("ETag")
		if etag == "" || !strings.Contains(hashed, strings.Trim(etag, `"`)) {
			t.Fatalf("ETag %q does not match %s", etag, hashed)
		}
		res = get("GET", hashed, map[string]string{"If-None-Match": etag})
		if res.StatusCode != http.StatusNotModified {
			t.Fatalf("conditional GET: %d", res.StatusCode)
		}
		body, _ := io.ReadAll(get("GET", hashed, nil).Body)
		if !strings.Contains(string(body), "--accent") {
			t.Fatal("body is not admin.css")
		}
	})
}
