package web

import (
	"net/http"

	"github.com/hapa-project/hapa/auth"
	"github.com/hapa-project/hapa/realtime"
)

type refreshRequest struct {
	RefreshToken string `json:"refresh_token"`
}

// handleRefresh serves POST /auth/refresh: a new access token for a valid refresh
// token of an existing user (400 E4002 without one, 401 E4003 for a bad one).
func (s *Server) handleRefresh(w http.ResponseWriter, r *http.Request) {
	var req refreshRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var v validator
	if !v.requiredString("refresh_token", req.RefreshToken) {
		s.writeError(w, r, v.err())
		return
	}
	c, err := s.tokens.Parse(req.RefreshToken, auth.TokenRefresh)
	if err != nil {
		e := realtime.NewError(realtime.CodeInvalidKey, "Invalid or expired refresh token")
		e.Detail, e.Err = err.Error(), err
		s.writeError(w, r, e)
		return
	}
	u, err := s.deps.DB.Users().ByID(r.Context(), c.UserID)
	if err != nil {
		if e := realtime.AsError(dbError(err, "")); e.Code == realtime.CodeNotFound {
			s.writeError(w, r, realtime.NewError(realtime.CodeInvalidKey, "Invalid or expired refresh token"))
			return
		}
		s.writeError(w, r, dbError(err, ""))
		return
	}
	tok, err := s.tokens.Access(u.ID, u.Email, c.SessionID)
	if err != nil {
		s.writeError(w, r, realtime.Wrap(realtime.CodeInternal, err))
		return
	}
	writeJSON(w, http.StatusOK, tok)
}

// handleLogout serves POST /auth/logout: the bearer access token's login session — its
// access and refresh tokens — is refused from now on by every replica, also after a
// restart (auth.Tokens.Revoke); so is the session of a refresh_token sent in the body.
// 503 E5003 when the database cannot record it.
func (s *Server) handleLogout(w http.ResponseWriter, r *http.Request) {
	tok := auth.BearerToken(r)
	if tok == "" {
		s.writeError(w, r, realtime.NewError(realtime.CodeInvalidKey, "Send the access token as Authorization: Bearer"))
		return
	}
	c, err := s.tokens.Parse(tok, auth.TokenAccess)
	if err != nil {
		e := realtime.NewError(realtime.CodeInvalidKey, "Invalid or expired token")
		e.Detail, e.Err = err.Error(), err
		s.writeError(w, r, e)
		return
	}
	if r.ContentLength != 0 && r.Body != nil && r.Body != http.NoBody {
		var req refreshRequest
		if decodeJSON(r, &req) == nil && req.RefreshToken != "" {
			if rc, err := s.tokens.Parse(req.RefreshToken, auth.TokenRefresh); err == nil && rc.UserID == c.UserID && (rc.SessionID == "" || rc.SessionID != c.SessionID) {
				if err := s.tokens.Revoke(r.Context(), rc); err != nil {
					s.writeError(w, r, realtime.Wrap(realtime.CodeDatabaseError, err))
					return
				}
			}
		}
	}
	if err := s.tokens.Revoke(r.Context(), c); err != nil {
		s.writeError(w, r, realtime.Wrap(realtime.CodeDatabaseError, err))
		return
	}
	w.WriteHeader(http.StatusNoContent)
}
