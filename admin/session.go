package admin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/hapa-project/hapa/store"
)

// Cookie names. Browsers accept a __Host- cookie only with Secure, Path=/ and no
// Domain; Secure cookies are accepted over TLS and, in Chromium and Firefox, from
// http://localhost and 127.0.0.1 (potentially trustworthy origins). Over any other
// plain-HTTP origin the console falls back to the unprefixed name without Secure.
const (
	cookieSecure = "__Host-hapa_admin"
	cookiePlain  = "hapa_admin"
)

// touchEvery throttles last_seen_at writes: a session is touched at most once per
// interval, so idle expiry is accurate to about this much.
const touchEvery = time.Minute

// session is the signed-in admin of a request.
type session struct {
	ID    string // SHA-256 hex of the cookie token: what admin_sessions stores
	User  store.User
	token string // the cookie token itself (seals the flash cookie, flash.go); never stored
}

type ctxKey struct{}

func sessionFrom(ctx context.Context) *session {
	s, _ := ctx.Value(ctxKey{}).(*session)
	return s
}

// secureRequest reports whether the cookie may carry Secure for r.
func (h *Handler) secureRequest(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	if h.cfg.TrustForwardedProto && strings.EqualFold(r.Header.Get("X-Forwarded-Proto"), "https") {
		return true
	}
	host := r.Host
	if hh, _, err := net.SplitHostPort(host); err == nil {
		host = hh
	}
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(strings.Trim(host, "[]"))
	return ip != nil && ip.IsLoopback()
}

func (h *Handler) cookieName(r *http.Request) string {
	if h.secureRequest(r) {
		return cookieSecure
	}
	return cookiePlain
}

// setCookie writes the session cookie; an empty token deletes it.
func (h *Handler) setCookie(w http.ResponseWriter, r *http.Request, token string) {
	c := &http.Cookie{
		Name: h.cookieName(r), Value: token, Path: "/", HttpOnly: true,
		Secure: h.secureRequest(r), SameSite: http.SameSiteStrictMode,
	}
	if token == "" {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

// newToken returns a random 32-byte cookie token and the id stored for it.
func newToken() (token, id string) {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	token = base64.RawURLEncoding.EncodeToString(b)
	return token, tokenID(token)
}

// tokenID is the SHA-256 hex of a cookie token. A database leak therefore does not
// reveal usable cookies.
func tokenID(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:])
}

// load returns the live session named by r's cookie, or nil. Malformed, unknown,
// expired and idle sessions all yield nil (expired rows are deleted).
func (h *Handler) load(r *http.Request) *session {
	c, err := r.Cookie(h.cookieName(r))
	if err != nil || c.Value == "" {
		return nil
	}
	raw, err := base64.RawURLEncoding.DecodeString(c.Value)
	if err != nil || len(raw) != 32 {
		return nil
	}
	ctx := r.Context()
	id := tokenID(c.Value)
	s, err := h.sessions().get(ctx, id)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			h.log.Warn("admin: load session", "err", err)
		}
		return nil
	}
	now := h.now()
	if !now.Before(s.ExpiresAt) || now.Sub(s.LastSeenAt) >= h.cfg.SessionIdle ||
		now.Sub(s.CreatedAt) >= h.cfg.SessionAbsolute {
		h.endSession(ctx, id)
		return nil
	}
	u, err := h.db.Users().ByID(ctx, s.UserID)
	if err != nil || u.Role != store.RoleAdmin || u.Disabled() {
		return nil
	}
	if now.Sub(s.LastSeenAt) >= touchEvery {
		if err := h.sessions().touch(ctx, s, now); err != nil {
			h.log.Warn("admin: touch session", "err", err)
		}
	}
	return &session{ID: id, User: u, token: c.Value}
}

// auth lets signed-in admins through and sends everyone else to the login page (htmx
// requests get an HX-Redirect so the whole page navigates, not the fragment).
func (h *Handler) auth(fn http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s := h.load(r)
		if s == nil {
			target := "/admin/login"
			if r.Method == http.MethodGet && r.URL.Path != "/admin/" {
				target += "?next=" + url.QueryEscape(r.URL.RequestURI())
			}
			if r.Header.Get("HX-Request") == "true" {
				w.Header().Set("HX-Redirect", target)
				w.WriteHeader(http.StatusUnauthorized)
				return
			}
			http.Redirect(w, r, target, http.StatusSeeOther)
			return
		}
		fn(w, r.WithContext(context.WithValue(r.Context(), ctxKey{}, s)))
	})
}

// endSession deletes a session and revokes its playground key.
func (h *Handler) endSession(ctx context.Context, id string) {
	if err := h.sessions().delete(ctx, id); err != nil && !errors.Is(err, store.ErrNotFound) {
		h.log.Warn("admin: delete session", "err", err)
	}
	h.mu.Lock()
	keyID, ok := h.playground[id]
	delete(h.playground, id)
	h.mu.Unlock()
	if ok {
		h.revokeQuietly(ctx, keyID)
	}
}

// clientIP is the peer address of r. X-Forwarded-For is not trusted here: put the
// console behind a proxy that terminates on the same host, or accept per-proxy limits.
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
