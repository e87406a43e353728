package admin

import "net/http"

// needsDB answers every console page but the login form with a 503 page at once while
// the database is known to be down (Deps.DBAvailable: its breaker is open), instead
// of letting the page wait on it (docs/operations.md, "Failure modes").
func (h *Handler) needsDB(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if h.deps.DBAvailable == nil || h.deps.DBAvailable() || (r.Method == http.MethodGet && r.URL.Path == "/admin/login") {
			next.ServeHTTP(w, r)
			return
		}
		w.Header().Set("Retry-After", "5")
		h.render(w, r, http.StatusServiceUnavailable, ErrorPage(h.chrome(r, "", "Database unavailable"),
			ErrorView{Status: http.StatusServiceUnavailable, Message: "The database does not answer. Editors and API callers with recently used keys are still served; the console needs the database. Try again shortly."}))
	})
}
