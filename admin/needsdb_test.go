package admin

import (
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
)

// TestConsoleWhileTheDatabaseIsDown: while the database's breaker is open every page
// but the login form answers a 503 page at once, and the console works again when it
// closes.
func TestConsoleWhileTheDatabaseIsDown(t *testing.T) {
	var up atomic.Bool
	up.Store(true)
	e := newEnv(t, func(d *Deps) { d.DBAvailable = up.Load })
	b := e.browser()
	b.login()
	wantStatus(t, b.get("/admin/"), http.StatusOK)

	up.Store(false)
	for _, path := range []string{"/admin/", "/admin/keys", "/admin/errors"} {
		res := b.get(path)
		wantStatus(t, res, http.StatusServiceUnavailable)
		if !strings.Contains(res.Body, "The database does not answer") || res.Header.Get("Retry-After") == "" {
			t.Errorf("%s while the database is down: %s", path, res.Body)
		}
	}
	wantStatus(t, e.browser().get("/admin/login"), http.StatusOK) // signed out
	wantStatus(t, b.post("/admin/keys/1/revoke", nil), http.StatusServiceUnavailable)

	up.Store(true)
	wantStatus(t, b.get("/admin/keys"), http.StatusOK)
}
