package admin

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/hapa-project/hapa/store"
)

// loginError is the one message of every failed login: it does not say whether the
// account exists, is an admin, or has a password.
const loginError = "Invalid e-mail or password."

func (h *Handler) loginForm(w http.ResponseWriter, r *http.Request) {
	if h.load(r) != nil {
		http.Redirect(w, r, safeNext(r.URL.Query().Get("next")), http.StatusSeeOther)
		return
	}
	h.render(w, r, http.StatusOK, LoginPage(h.chrome(r, "", "Sign in"), LoginView{Next: r.URL.Query().Get("next")}))
}

func (h *Handler) loginSubmit(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 16<<10)
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	password := r.PostFormValue("password")
	next := r.PostFormValue("next")
	view := LoginView{Email: email, Next: next}
	now := h.now()
	ip := clientIP(r)
	ipKey, acctKey, pairKey := "ip:"+ip, "acct:"+email, "pair:"+email+"|"+ip

	delay, ok := h.loginGate(now, ipKey, acctKey, pairKey)
	if !ok {
		h.sleep(h.cfg.LoginDelay)
		view.Error = "Too many failed attempts. Wait a minute and try again."
		h.render(w, r, http.StatusTooManyRequests, LoginPage(h.chrome(r, "", "Sign in"), view))
		return
	}
	h.sleep(delay)
	u, err := h.verify(r, email, password)
	if err != nil {
		h.limiter.fail(now, ipKey)
		h.accounts.fail(now, acctKey, pairKey)
		h.sleep(h.cfg.LoginDelay)
		view.Error = loginError
		h.render(w, r, http.StatusUnauthorized, LoginPage(h.chrome(r, "", "Sign in"), view))
		return
	}
	h.accounts.reset(acctKey)
	h.accounts.reset(pairKey)
	if old := h.load(r); old != nil { // a fresh token on every login: no session fixation
		h.endSession(r.Context(), old.ID)
	}
	token, id := newToken()
	if err := h.sessions().create(r.Context(), id, u.ID, now, r.UserAgent(), clientIP(r)); err != nil {
		h.fail(w, r, err)
		return
	}
	h.sessions().sweep(r.Context())
	h.log.Info("admin: signed in", "user", u.Email, "ip", clientIP(r))
	h.auditAs(r, store.AuditEntry{ActorID: u.ID, Actor: u.Email, Action: actLogin, Target: userTarget(u.ID), IP: clientIP(r)})
	h.setCookie(w, r, token)
	http.Redirect(w, r, safeNext(next), http.StatusSeeOther)
}

// loginGate decides whether a login attempt is checked, and after what pause
// (docs/admin.md, "Security"). An address with LoginAttempts failures in the last
// minute is refused, whatever the account. An account with LoginAttempts failures in
// the last 15 minutes is not locked — that would let anyone keep its owner out — but
// every attempt on it waits a progressive delay first (LoginDelay, doubling with each
// further failure, at most LoginDelayMax), and an address that already failed on it is
// refused until the window passes. So the right password from an address that has not
// failed still gets in, a little later, while an attacker gets one guess per address.
func (h *Handler) loginGate(now time.Time, ipKey, acctKey, pairKey string) (time.Duration, bool) {
	if h.limiter.count(now, ipKey) >= h.cfg.LoginAttempts {
		return 0, false
	}
	n := h.accounts.count(now, acctKey)
	if n < h.cfg.LoginAttempts {
		return 0, true
	}
	if h.accounts.count(now, pairKey) > 0 {
		return 0, false
	}
	delay := h.cfg.LoginDelay
	for i := h.cfg.LoginAttempts; i < n && delay < h.cfg.LoginDelayMax; i++ {
		delay *= 2
	}
	return min(delay, h.cfg.LoginDelayMax), true
}

// errBadLogin is any reason a login fails.
var errBadLogin = errors.New("admin: bad login")

// verify checks the credentials of an admin account.
func (h *Handler) verify(r *http.Request, email, password string) (store.User, error) {
	if email == "" || password == "" {
		return store.User{}, errBadLogin
	}
	u, err := h.db.Users().ByEmail(r.Context(), email)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			h.log.Warn("admin: login lookup", "err", err)
		}
		// Spend the same time as a real check so timing does not reveal accounts.
		_, _ = h.verifyPW(h.dummy(), password)
		return store.User{}, errBadLogin
	}
	if u.Role != store.RoleAdmin || u.PasswordHash == nil || u.Disabled() {
		_, _ = h.verifyPW(h.dummy(), password)
		return store.User{}, errBadLogin
	}
	ok, err := h.verifyPW(*u.PasswordHash, password)
	if err != nil || !ok {
		return store.User{}, errBadLogin
	}
	return u, nil
}

// logout ends the session, revokes its playground key and deletes the cookie.
func (h *Handler) logout(w http.ResponseWriter, r *http.Request) {
	if s := h.load(r); s != nil {
		h.endSession(r.Context(), s.ID)
		h.auditAs(r, store.AuditEntry{ActorID: s.User.ID, Actor: s.User.Email, Action: actLogout, Target: userTarget(s.User.ID), IP: clientIP(r)})
	}
	h.setCookie(w, r, "")
	http.Redirect(w, r, "/admin/login", http.StatusSeeOther)
}

// safeNext keeps post-login redirects inside the console.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/admin/") && !strings.HasPrefix(next, "//") &&
		!strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return "/admin/"
}
