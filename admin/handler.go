package admin

import (
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/a-h/templ"

	"github.com/hapa-project/hapa/store"
)

// Handler is the admin console. It serves everything under /admin/ and is safe for
// concurrent use. Mount it at "/admin/" (and "/admin" for the redirect).
type Handler struct {
	cfg   Config
	deps  Deps
	db    *store.DB
	log   *slog.Logger
	now   func() time.Time
	sleep func(time.Duration)

	limiter  *loginLimiter                             // failed logins per address, one minute
	accounts *loginLimiter                             // failed logins per account and per account and address, 15 minutes
	verifyPW func(hash, password string) (bool, error) // store.VerifyPassword
	dummy    func() string                             // an Argon2id hash checked for unknown accounts (equal timing)
	root     http.Handler

	mu         sync.Mutex
	playground map[string]int64 // session id → the playground key minted for it
}

// New builds the console. deps.DB is required.
func New(cfg Config, deps Deps) (*Handler, error) {
	if deps.DB == nil {
		return nil, errors.New("admin: Deps.DB is required")
	}
	h := &Handler{
		cfg: cfg.withDefaults(), deps: deps, db: deps.DB, log: deps.Logger, now: deps.Now,
		sleep: time.Sleep, playground: map[string]int64{},
	}
	if h.log == nil {
		h.log = slog.New(slog.DiscardHandler)
	}
	if h.now == nil {
		h.now = time.Now
	}
	if h.deps.Usage == nil {
		h.deps.Usage = storeUsage{db: deps.DB, now: h.now}
	}
	if h.deps.Incidents == nil {
		h.deps.Incidents = storeIncidents{db: deps.DB, now: h.now}
	}
	h.limiter = newLoginLimiter(h.cfg.LoginAttempts, time.Minute)
	h.accounts = newLoginLimiter(h.cfg.LoginAttempts, accountWindow)
	h.verifyPW = store.VerifyPassword
	h.dummy = sync.OnceValue(func() string {
		token, _ := newToken()
		hash, err := store.HashPassword(token)
		if err != nil {
			h.log.Error("admin: hash dummy password", "err", err)
		}
		return hash
	})
	h.root = h.routes()
	return h, nil
}

// ServeHTTP implements http.Handler.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) { h.root.ServeHTTP(w, r) }

// routes lists every URL of the console. Every state-changing route is a POST, and the
// whole mux sits behind cross-origin protection (CSRF) and the per-response CSP.
func (h *Handler) routes() http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /admin", func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, "/admin/", http.StatusMovedPermanently)
	})
	mux.HandleFunc("GET /admin/login", h.loginForm)
	mux.HandleFunc("POST /admin/login", h.loginSubmit)
	mux.HandleFunc("POST /admin/logout", h.logout)

	mux.Handle("GET /admin/{$}", h.auth(h.overview))
	mux.Handle("GET /admin/overview/live", h.auth(h.overviewLive))
	mux.Handle("GET /admin/errors", h.auth(h.errorsPage))
	mux.Handle("GET /admin/errors/{id}", h.auth(h.incidentPage))
	mux.Handle("POST /admin/errors/{id}/workflow", h.auth(h.incidentWorkflow))
	mux.Handle("GET /admin/cache", h.auth(h.cachePage))
	mux.Handle("GET /admin/cache/clear", h.auth(h.cacheConfirm))
	mux.Handle("POST /admin/cache/clear", h.auth(h.cacheClear))
	mux.Handle("GET /admin/keys", h.auth(h.keysPage))
	mux.Handle("GET /admin/keys/new", h.auth(h.keyNewForm))
	mux.Handle("POST /admin/keys", h.auth(h.keyCreate))
	mux.Handle("GET /admin/keys/{id}", h.auth(h.keyPage))
	mux.Handle("POST /admin/keys/{id}/edit", h.auth(h.keyEdit))
	mux.Handle("GET /admin/keys/{id}/revoke", h.auth(h.keyConfirm("revoke")))
	mux.Handle("POST /admin/keys/{id}/revoke", h.auth(h.keyRevoke))
	mux.Handle("GET /admin/keys/{id}/rotate", h.auth(h.keyConfirm("rotate")))
	mux.Handle("POST /admin/keys/{id}/rotate", h.auth(h.keyRotate))
	mux.Handle("GET /admin/users", h.auth(h.usersPage))
	mux.Handle("GET /admin/users/{id}", h.auth(h.userPage))
	mux.Handle("GET /admin/users/{id}/disable", h.auth(h.userConfirm("disable")))
	mux.Handle("POST /admin/users/{id}/disable", h.auth(h.userDisable))
	mux.Handle("POST /admin/users/{id}/enable", h.auth(h.userEnable))
	mux.Handle("POST /admin/users/{id}/role", h.auth(h.userRole))
	mux.Handle("GET /admin/users/{id}/delete", h.auth(h.userConfirm("delete")))
	mux.Handle("POST /admin/users/{id}/delete", h.auth(h.userDelete))
	mux.Handle("GET /admin/upstreams", h.auth(h.upstreamsPage))
	mux.Handle("POST /admin/upstreams/state", h.auth(h.upstreamState))
	mux.Handle("GET /admin/playground", h.auth(h.playgroundPage))
	mux.Handle("GET /admin/audit", h.auth(h.auditPage))
	mux.Handle("GET /admin/usage", h.auth(h.usagePage))
	mux.Handle("GET /admin/usage.csv", h.auth(h.usageCSV))
	mux.Handle("GET /admin/requests", h.auth(h.requestsPage))
	mux.Handle("GET /admin/requests/{id}", h.auth(h.requestPage))
	mux.Handle("/admin/", h.auth(func(w http.ResponseWriter, r *http.Request) {
		h.notFound(w, r, "There is no such page.")
	}))

	cop := http.NewCrossOriginProtection()
	cop.SetDenyHandler(http.HandlerFunc(h.forbidden))
	return h.secure(cop.Handler(h.needsDB(mux)))
}

// render writes a templ component with status.
func (h *Handler) render(w http.ResponseWriter, r *http.Request, status int, c templ.Component) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if err := c.Render(r.Context(), w); err != nil {
		h.log.Warn("admin: render", "path", r.URL.Path, "err", err)
	}
}

// fail renders the error page for an unexpected failure; the detail is logged only.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrNotFound) {
		h.notFound(w, r, "It does not exist (any more).")
		return
	}
	h.log.Error("admin: request failed", "path", r.URL.Path, "err", err)
	h.render(w, r, http.StatusInternalServerError, ErrorPage(h.chrome(r, "", "Something went wrong"),
		ErrorView{Status: http.StatusInternalServerError, Message: "The server could not complete the request. The details are in the server log."}))
}

func (h *Handler) notFound(w http.ResponseWriter, r *http.Request, msg string) {
	h.render(w, r, http.StatusNotFound, ErrorPage(h.chrome(r, "", "Not found"),
		ErrorView{Status: http.StatusNotFound, Message: msg}))
}

func (h *Handler) badRequest(w http.ResponseWriter, r *http.Request, msg string) {
	h.render(w, r, http.StatusBadRequest, ErrorPage(h.chrome(r, "", "Bad request"),
		ErrorView{Status: http.StatusBadRequest, Message: msg}))
}

// forbidden answers a cross-origin state-changing request.
func (h *Handler) forbidden(w http.ResponseWriter, r *http.Request) {
	h.render(w, r, http.StatusForbidden, ErrorPage(h.chrome(r, "", "Forbidden"),
		ErrorView{Status: http.StatusForbidden, Message: "Cross-site requests are refused. Reload the page and try again."}))
}
