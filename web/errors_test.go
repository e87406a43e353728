package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime"
)

// testIncidents records 5xx errors with a fixed id.
type testIncidents struct{ n int }

func (ti *testIncidents) Record(context.Context, *realtime.Error, string, string) string {
	ti.n++
	return "INC-20261201-0A1B2C3D"
}

// probeServer serves the middleware chain of env.srv over a mux with test routes.
func probeServer(t *testing.T, env *testEnv) string {
	t.Helper()
	mux := http.NewServeMux()
	env.srv.routes(mux)
	mux.HandleFunc("POST /test/echo", func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Name  string `json:"name"`
			Count int    `json:"count"`
		}
		if err := decodeJSON(r, &body); err != nil {
			env.srv.writeError(w, r, err)
			return
		}
		var v validator
		v.requiredString("name", body.Name)
		v.intRange("count", body.Count, 1, 10)
		if err := v.err(); err != nil {
			env.srv.writeError(w, r, err)
			return
		}
		writeJSON(w, http.StatusOK, body)
	})
	mux.HandleFunc("POST /test/slow", func(w http.ResponseWriter, r *http.Request) {
		var body map[string]any
		if err := decodeJSON(r, &body); err != nil {
			env.srv.writeError(w, r, err)
			return
		}
		select {
		case <-time.After(150 * time.Millisecond):
			writeJSON(w, http.StatusOK, map[string]string{"ctx": "alive"})
		case <-r.Context().Done():
			writeJSON(w, http.StatusOK, map[string]string{"ctx": "cancelled"})
		}
	})
	mux.HandleFunc("GET /test/empty", func(http.ResponseWriter, *http.Request) {})
	mux.HandleFunc("GET /test/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	mux.HandleFunc("GET /test/panic-late", func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
		_, _ = w.Write([]byte("partial"))
		panic("late boom")
	})
	mux.HandleFunc("GET /test/ratelimited", func(w http.ResponseWriter, r *http.Request) {
		e := realtime.NewError(realtime.CodeRateLimited, "")
		e.RetryAfter = 1500 * time.Millisecond
		env.srv.writeError(w, r, e)
	})
	mux.HandleFunc("GET /test/sse-error", func(w http.ResponseWriter, r *http.Request) {
		env.srv.writeSSEError(w, r, realtime.NewError(realtime.CodeInvalidKey, ""))
	})
	mux.Handle("GET /test/whoami", env.srv.authed(func(w http.ResponseWriter, r *http.Request) {
		c, _ := callerFrom(r.Context())
		writeJSON(w, http.StatusOK, map[string]any{"key_id": c.KeyID, "user_id": c.UserID, "scopes": c.Scopes})
	}, ScopeHistory))
	ts := httptest.NewServer(env.srv.chain(env.srv.dispatch(mux)))
	t.Cleanup(ts.Close)
	return ts.URL
}

func TestErrorBodies(t *testing.T) {
	inc := &testIncidents{}
	env := newEnv(t, func(c *Config, d *Deps) { c.MaxBodyBytes = 64; d.Incidents = inc })
	base := probeServer(t, env)

	t.Run("400 not JSON", func(t *testing.T) {
		m := checkError(t, doTo(t, base, "POST", "/test/echo", "name=x"), 400, "E4001")
		if !strings.Contains(m["detail"].(string), "offset") {
			t.Errorf("detail %q lacks the offset", m["detail"])
		}
	})
	t.Run("400 wrong type names the field", func(t *testing.T) {
		m := checkError(t, doTo(t, base, "POST", "/test/echo", `{"name":"a","count":"3"}`), 400, "E4001")
		d := m["details"].([]any)[0].(map[string]any)
		if d["field"] != "count" {
			t.Errorf("details = %v", m["details"])
		}
	})
	t.Run("400 missing field", func(t *testing.T) {
		m := checkError(t, doTo(t, base, "POST", "/test/echo", `{"count":3}`), 400, "E4002")
		d := m["details"].([]any)[0].(map[string]any)
		if d["field"] != "name" || d["code"] != "E4002" || d["type"] != "missing" {
			t.Errorf("details = %v", m["details"])
		}
	})
	t.Run("422 out of range", func(t *testing.T) {
		checkError(t, doTo(t, base, "POST", "/test/echo", `{"name":"a","count":11}`), 422, "E4008")
	})
	t.Run("401", func(t *testing.T) {
		m := checkError(t, doTo(t, base, "GET", "/test/sse-error", nil), 401, "E4003")
		if m["type"] != "error" || m["content"] != m["detail"] {
			t.Errorf("SSE error body lacks type/content: %v", m)
		}
	})
	t.Run("404 unknown route", func(t *testing.T) {
		m := checkError(t, doTo(t, base, "GET", "/no/such/route", nil), 404, "E4011")
		if m["path"] != "/no/such/route" {
			t.Errorf("path = %v", m["path"])
		}
		if _, ok := m["incident_id"]; ok {
			t.Error("4xx carries an incident id")
		}
	})
	t.Run("405 wrong method", func(t *testing.T) {
		r := doTo(t, base, "DELETE", "/health", nil)
		checkError(t, r, 405, "E4001")
		if !strings.Contains(r.Header.Get("Allow"), "GET") {
			t.Errorf("Allow = %q", r.Header.Get("Allow"))
		}
	})
	t.Run("413 declared length", func(t *testing.T) {
		checkError(t, doTo(t, base, "POST", "/test/echo", `{"name":"`+strings.Repeat("x", 100)+`"}`), 413, "E4010")
	})
	t.Run("429 Retry-After rounds up", func(t *testing.T) {
		r := doTo(t, base, "GET", "/test/ratelimited", nil)
		checkError(t, r, 429, "E4004")
		if r.Header.Get("Retry-After") != "2" {
			t.Errorf("Retry-After = %q", r.Header.Get("Retry-After"))
		}
	})
	t.Run("500 panic", func(t *testing.T) {
		r := doTo(t, base, "GET", "/test/panic", nil)
		m := checkError(t, r, 500, "E5004")
		if m["incident_id"] != "INC-20261201-0A1B2C3D" {
			t.Errorf("incident_id = %v", m["incident_id"])
		}
		if strings.Contains(string(r.body), "boom") {
			t.Error("panic value leaked to the client")
		}
		if r.Header.Get("Content-Security-Policy") == "" || r.Header.Get("X-Content-Type-Options") != "nosniff" {
			t.Error("security headers missing on the panic response")
		}
		if !strings.Contains(env.logs.String(), "panic in handler") {
			t.Error("panic not logged")
		}
		// The server keeps serving.
		if r := doTo(t, base, "GET", "/health", nil); r.StatusCode != 200 {
			t.Errorf("after panic: /health = %d", r.StatusCode)
		}
	})
	t.Run("panic after the header keeps the partial response", func(t *testing.T) {
		r := doTo(t, base, "GET", "/test/panic-late", nil)
		if r.StatusCode != 200 || string(r.body) != "partial" {
			t.Errorf("got %d %q", r.StatusCode, r.body)
		}
	})
}

func TestBodyLimitWithoutContentLength(t *testing.T) {
	env := newEnv(t, func(c *Config, _ *Deps) { c.MaxBodyBytes = 64 })
	base := probeServer(t, env)
	pr, pw := ioPipe()
	go func() {
		_, _ = pw.Write([]byte(`{"name":"` + strings.Repeat("x", 200) + `"}`))
		pw.Close()
	}()
	req, _ := http.NewRequest("POST", base+"/test/echo", pr) // chunked: no Content-Length
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != 413 {
		t.Fatalf("status = %d", res.StatusCode)
	}
}
