package web

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/hapa-project/hapa/auth"
	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// issuedKeyScopes are the scopes of keys from generate-api-key: what the extension needs.
var issuedKeyScopes = []string{ScopeCodeGeneration, ScopeCodeCompletion, ScopeHistory}

type generateKeyRequest struct {
	Email    string `json:"email"`
	Username string `json:"username"`
}

type generateKeyResponse struct {
	APIKey        string   `json:"api_key"`
	UserID        string   `json:"user_id"` // the e-mail, as the original answered
	Permissions   []string `json:"permissions"`
	ExpiresInDays int      `json:"expires_in_days"`
	Message       string   `json:"message"`
}

// handleGenerateKey serves POST /api/v1/users/generate-api-key. The caller is the user
// of the request's JWT or API key; without a credential, and only with SelfSignup, the
// body's e-mail names the user (created if new), as in the original. A user holding
// MaxKeysPerUser active keys gets 409 E4012: keys are never revoked behind the user's
// back, since an editor may still be using the oldest one (revoke one in the admin
// console or let it expire).
func (s *Server) handleGenerateKey(w http.ResponseWriter, r *http.Request) {
	var req generateKeyRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var v validator
	email := ""
	if strings.TrimSpace(req.Email) != "" {
		email = validEmail(&v, "email", req.Email)
	}
	v.maxLen("username", req.Username, 100)
	if err := v.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	u, err := s.keyOwner(r, email, req.Username)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	nk, err := s.issuedKey(r, u.ID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	plain, _, err := s.deps.DB.APIKeys().CreateForUser(r.Context(), u.ID, s.cfg.MaxKeysPerUser, nk)
	if errors.Is(err, store.ErrKeyLimit) {
		s.writeError(w, r, realtime.NewError(realtime.CodeConflict, fmt.Sprintf(
			"This account already has %d active API keys (the limit); revoke one or let it expire first", s.cfg.MaxKeysPerUser)))
		return
	}
	if err != nil {
		s.writeError(w, r, dbError(err, ""))
		return
	}
	writeJSON(w, http.StatusOK, generateKeyResponse{
		APIKey: plain, UserID: u.Email, Permissions: nk.Scopes,
		ExpiresInDays: int((nk.ExpiresAt.Sub(s.now()) + 12*time.Hour) / (24 * time.Hour)),
		Message:       "API Key가 성공적으로 생성되었습니다. 이 키는 다시 표시되지 않으니 안전하게 보관하세요.",
	})
}

// issuedKey describes the key generate-api-key creates for user uid. A caller that
// authenticated with an API key cannot widen it: the new key gets at most that key's
// scopes (of issuedKeyScopes), its token quotas and no later expiry. JWT and e-mail
// callers get issuedKeyScopes for KeyExpiry.
func (s *Server) issuedKey(r *http.Request, uid int64) (store.NewKey, error) {
	exp := s.now().Add(s.cfg.KeyExpiry)
	nk := store.NewKey{UserID: &uid, Name: "generate-api-key", Scopes: store.Scopes(issuedKeyScopes), ExpiresAt: &exp}
	st := stateFrom(r.Context())
	if st.caller == nil || st.caller.KeyID == 0 {
		return nk, nil
	}
	parent, err := s.deps.DB.APIKeys().ByID(r.Context(), st.caller.KeyID)
	if err != nil {
		return nk, dbError(err, "API key not found")
	}
	nk.Scopes = nil
	for _, sc := range issuedKeyScopes {
		if parent.HasScope(sc) || parent.HasScope(ScopeAdmin) {
			nk.Scopes = append(nk.Scopes, sc)
		}
	}
	if len(nk.Scopes) == 0 {
		return nk, realtime.NewError(realtime.CodeForbidden, "This API key holds none of the scopes an issued key would carry")
	}
	nk.TokensPerMinute, nk.TokensPerDay = parent.TokensPerMinute, parent.TokensPerDay
	if parent.ExpiresAt != nil && parent.ExpiresAt.Before(exp) {
		nk.ExpiresAt = parent.ExpiresAt
	}
	return nk, nil
}

// keyOwner decides whose key generate-api-key creates (see handleGenerateKey).
func (s *Server) keyOwner(r *http.Request, email, username string) (store.User, error) {
	ctx := r.Context()
	if _, _, present := auth.Credential(r); present {
		c, e := s.deps.Auth.Authenticate(r)
		if e != nil {
			return store.User{}, e
		}
		stateFrom(ctx).caller = &c
		if c.UserID == 0 {
			return store.User{}, realtime.NewError(realtime.CodeForbidden, "This API key does not belong to a user account")
		}
		u, err := s.deps.DB.Users().ByID(ctx, c.UserID)
		if err != nil {
			return store.User{}, dbError(err, "User not found")
		}
		if email != "" && email != u.Email {
			return store.User{}, realtime.NewError(realtime.CodeForbidden, "The e-mail does not match the signed-in account")
		}
		if u.Disabled() {
			return store.User{}, realtime.NewError(realtime.CodeForbidden, "This account is disabled")
		}
		return u, nil
	}
	if !s.cfg.SelfSignup {
		return store.User{}, realtime.NewError(realtime.CodeInvalidKey,
			"Sign in first: send Authorization: Bearer <access token from /api/v1/users/login>")
	}
	var v validator
	v.requiredString("email", email)
	if err := v.err(); err != nil {
		return store.User{}, err
	}
	return s.authenticateUser(ctx, email, username, "")
}
