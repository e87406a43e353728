package web

import (
	"context"
	"errors"
	"net/http"
	"net/mail"
	"strings"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// loginRequest is the body of POST /api/v1/users/login and /auth/login.
type loginRequest struct {
	Email    string `json:"email"`
	Username string `json:"username"`
	Password string `json:"password"`
}

// userBody is the DB-Module's user object.
type userBody struct {
	ID       int64   `json:"id"`
	Email    string  `json:"email"`
	Username *string `json:"username"`
}

func toUserBody(u store.User) userBody {
	b := userBody{ID: u.ID, Email: u.Email}
	if u.Name != "" {
		b.Username = &u.Name
	}
	return b
}

// errLoginFailed is the one answer to every failed login, so that it does not tell
// which accounts exist.
func errLoginFailed() error {
	return realtime.NewError(realtime.CodeInvalidKey, "Invalid e-mail or password")
}

// validEmail records a missing or malformed e-mail and returns it normalised. A
// domain without a dot (admin@localhost, the account a first start creates) is an
// address here, so such an account can sign in; self-signup does not create one
// (signupEmail).
func validEmail(v *validator, field, email string) string {
	email = strings.TrimSpace(email)
	if !v.requiredString(field, email) || !v.maxLen(field, email, 254) {
		return ""
	}
	a, err := mail.ParseAddress(email)
	if err != nil || a.Address != email {
		v.add(field, realtime.CodeOutOfRange, "must be an e-mail address")
		return ""
	}
	return strings.ToLower(email)
}

// signupEmail refuses to create an account whose domain has no dot (422 E4008):
// self-signup makes accounts only for addresses that can be real mailboxes elsewhere.
func signupEmail(email string) error {
	if strings.Contains(email[strings.LastIndexByte(email, '@')+1:], ".") {
		return nil
	}
	var v validator
	v.add("email", realtime.CodeOutOfRange, "must be an e-mail address")
	return v.err()
}

// authenticateUser is the login decision. With SelfSignup any e-mail logs in and an
// unknown one is created (the original's development flow) — except accounts that have
// a password, which always need it. Otherwise the account must exist and the password
// must verify. Failures wait Config.LoginDelay in total and answer errLoginFailed.
func (s *Server) authenticateUser(ctx context.Context, email, username, password string) (store.User, error) {
	start := time.Now()
	u, err := s.deps.DB.Users().ByEmail(ctx, email)
	switch {
	case errors.Is(err, store.ErrNotFound) && s.cfg.SelfSignup:
		if err := signupEmail(email); err != nil {
			return store.User{}, err
		}
		u, err = s.deps.DB.Users().Create(ctx, store.User{Email: email, Name: strings.TrimSpace(username)})
		if errors.Is(err, store.ErrConflict) { // a concurrent first login created it
			u, err = s.deps.DB.Users().ByEmail(ctx, email)
		}
		return u, dbError(err, "")
	case errors.Is(err, store.ErrNotFound):
		s.burnPasswordCheck(ctx, password)
		return store.User{}, s.loginFailed(ctx, start)
	case err != nil:
		return store.User{}, dbError(err, "")
	}
	if u.Disabled() { // an admin disabled the account (docs/admin.md, "Users")
		s.burnPasswordCheck(ctx, password)
		return store.User{}, s.loginFailed(ctx, start)
	}
	if u.PasswordHash == nil || *u.PasswordHash == "" {
		if s.cfg.SelfSignup {
			return u, nil
		}
		s.burnPasswordCheck(ctx, password)
		return store.User{}, s.loginFailed(ctx, start)
	}
	ok, err := s.verifyPassword(ctx, *u.PasswordHash, password)
	if err != nil {
		s.log.ErrorContext(ctx, "stored password hash is unreadable", "user_id", u.ID, "err", err)
	}
	if !ok || password == "" {
		return store.User{}, s.loginFailed(ctx, start)
	}
	return u, nil
}

// keepName stores the name sent at onboarding (login's username, the profile's
// profile_data.username): on an account without one, or, when replace is set (the
// user's own profile), over the old one. A failure is logged; the request goes on.
func (s *Server) keepName(ctx context.Context, u store.User, name string, replace bool) {
	name = strings.TrimSpace(name)
	if name == "" || name == u.Name || (u.Name != "" && !replace) {
		return
	}
	if err := s.deps.DB.Users().SetName(ctx, u.ID, name); err != nil {
		s.log.WarnContext(ctx, "onboarding name not stored", "user_id", u.ID, "err", err)
	}
}

// burnPasswordCheck spends the time of one password verification, so that an unknown
// e-mail answers as slowly as a wrong password.
func (s *Server) burnPasswordCheck(ctx context.Context, password string) {
	s.dummyOnce.Do(func() { s.dummyHash, _ = store.HashPassword("hapa-dummy-password") })
	if s.dummyHash != "" {
		_, _ = s.verifyPassword(ctx, s.dummyHash, password)
	}
}

// maxPasswordChecks bounds concurrent Argon2id verifications (about 19 MiB each), so a
// burst of logins queues instead of exhausting memory.
const maxPasswordChecks = 4

// verifyPassword is store.VerifyPassword under the concurrency bound; a request that
// gives up while queued counts as a mismatch.
func (s *Server) verifyPassword(ctx context.Context, encoded, password string) (bool, error) {
	select {
	case s.pwSlots <- struct{}{}:
	case <-ctx.Done():
		return false, ctx.Err()
	}
	defer func() { <-s.pwSlots }()
	return store.VerifyPassword(encoded, password)
}

// loginFailed waits until LoginDelay has passed since start, then returns the error.
func (s *Server) loginFailed(ctx context.Context, start time.Time) error {
	t := time.NewTimer(time.Until(start.Add(s.cfg.LoginDelay)))
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
	return errLoginFailed()
}

// handleLogin serves POST /api/v1/users/login and POST /auth/login: an access and a
// refresh token.
func (s *Server) handleLogin(w http.ResponseWriter, r *http.Request) {
	var req loginRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var v validator
	email := validEmail(&v, "email", req.Email)
	v.maxLen("username", req.Username, 100)
	v.maxLen("password", req.Password, 1024)
	if err := v.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.authenticateUser(r.Context(), email, req.Username, req.Password)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	s.keepName(r.Context(), u, req.Username, false)
	pair, err := s.tokens.Pair(u.ID, u.Email)
	if err != nil {
		s.writeError(w, r, realtime.Wrap(realtime.CodeInternal, err))
		return
	}
	writeJSON(w, http.StatusOK, pair)
}

// handleMe serves GET /api/v1/users/me and GET /users/me.
func (s *Server) handleMe(w http.ResponseWriter, r *http.Request) {
	c := s.mustUser(r)
	u, err := s.deps.DB.Users().ByID(r.Context(), c.UserID)
	if err != nil {
		s.writeError(w, r, dbError(err, "User not found"))
		return
	}
	writeJSON(w, http.StatusOK, toUserBody(u))
}

// userAuthed is requireAuth(scopes...) for routes about the caller's own account: the
// credential must belong to a user (JWTs always do; API keys only when created for
// one), else 403 E4005.
func (s *Server) userAuthed(h http.HandlerFunc, scopes ...string) http.Handler {
	return s.requireAuth(scopes...)(s.needsDB(func(w http.ResponseWriter, r *http.Request) {
		if c, _ := callerFrom(r.Context()); c.UserID == 0 {
			s.writeError(w, r, realtime.NewError(realtime.CodeForbidden, "This API key does not belong to a user account"))
			return
		}
		h(w, r)
	}))
}

// mustUser returns the caller of a userAuthed route.
func (s *Server) mustUser(r *http.Request) realtime.Caller {
	c, _ := callerFrom(r.Context())
	return c
}
