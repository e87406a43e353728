package auth

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hapa-project/hapa/store"
)

// Token types in the token_type claim (as the DB-Module issued them).
const (
	TokenAccess  = "access"
	TokenRefresh = "refresh"
)

// Claims are the JWT claims: sub is the e-mail and user_id the users.id, as the
// DB-Module's tokens had; jti identifies the token and sid the login session it
// belongs to (a login's access and refresh tokens, and the access tokens refreshed
// from it, share one), for logout.
type Claims struct {
	UserID    int64  `json:"user_id"`
	TokenType string `json:"token_type"`
	SessionID string `json:"sid,omitempty"`
	jwt.RegisteredClaims
}

// TokenPair is a login answer.
type TokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

// Tokens signs and verifies HS256 JWTs and keeps the logout denylist: a revoked token
// or session is recorded in the revoked_tokens table, which every replica reads
// (watch.go), and announced through OnRevoke.
type Tokens struct {
	secret     []byte
	accessTTL  time.Duration
	refreshTTL time.Duration
	now        func() time.Time
	denied     *denylist
	revoked    *store.RevokedTokens // nil: this replica's memory only (tests)

	// OnRevoke, when set, is called after a logout was recorded, with the revoked
	// token or session id and its expiry, so cmd/hapa can tell the other replicas at
	// once (Redis events). They apply it with Deny.
	OnRevoke func(id string, exp time.Time)
}

// NewTokens returns a token issuer; revoked may be nil (a denylist in memory only).
func NewTokens(secret []byte, accessTTL, refreshTTL time.Duration, now func() time.Time, revoked *store.RevokedTokens) *Tokens {
	return &Tokens{secret: secret, accessTTL: accessTTL, refreshTTL: refreshTTL, now: now, denied: newDenylist(now), revoked: revoked}
}

// Pair issues an access and a refresh token for the user, of a new login session.
func (t *Tokens) Pair(userID int64, email string) (TokenPair, error) {
	sid := randomID()
	access, err := t.sign(userID, email, TokenAccess, sid, t.accessTTL)
	if err != nil {
		return TokenPair{}, err
	}
	refresh, err := t.sign(userID, email, TokenRefresh, sid, t.refreshTTL)
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{AccessToken: access, RefreshToken: refresh, TokenType: "bearer", ExpiresIn: int64(t.accessTTL / time.Second)}, nil
}

// Access issues only an access token (refresh answers), of the refresh token's session.
func (t *Tokens) Access(userID int64, email, sessionID string) (TokenPair, error) {
	access, err := t.sign(userID, email, TokenAccess, sessionID, t.accessTTL)
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{AccessToken: access, TokenType: "bearer", ExpiresIn: int64(t.accessTTL / time.Second)}, nil
}

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func (t *Tokens) sign(userID int64, email, typ, sid string, ttl time.Duration) (string, error) {
	now := t.now()
	c := Claims{
		UserID:    userID,
		TokenType: typ,
		SessionID: sid,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   email,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID:        randomID(),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
	if err != nil {
		return "", fmt.Errorf("auth: sign token: %w", err)
	}
	return s, nil
}

// Parse verifies token (HS256 only, signature, expiry, type, denylist) and returns its
// claims. Every failure is ErrBadToken, wrapping the reason for the log.
func (t *Tokens) Parse(token, wantType string) (*Claims, error) {
	var c Claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
		jwt.WithLeeway(5*time.Second))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: %w", ErrBadToken, err)
	case c.TokenType != wantType:
		return nil, fmt.Errorf("%w: token_type %q, want %q", ErrBadToken, c.TokenType, wantType)
	case c.UserID <= 0:
		return nil, fmt.Errorf("%w: no user_id", ErrBadToken)
	case t.denied.has(c.ID) || t.denied.has(c.SessionID):
		return nil, fmt.Errorf("%w: logged out", ErrBadToken)
	case t.denied.userDenied(c.UserID, c.IssuedAt):
		return nil, fmt.Errorf("%w: the account was disabled or deleted", ErrBadToken)
	}
	return &c, nil
}

// Revoke logs out the token's session — every token of that login, on every replica,
// also after a restart — or, for a token without a session (issued before sessions
// existed), the token alone. The denial lasts as long as the session's longest token
// can (the refresh lifetime). It fails only when the database cannot record it.
func (t *Tokens) Revoke(ctx context.Context, c *Claims) error {
	id, exp := c.SessionID, t.now().Add(t.refreshTTL)
	if id == "" {
		if c.ID == "" || c.ExpiresAt == nil {
			return nil
		}
		id, exp = c.ID, c.ExpiresAt.Time
	}
	if t.revoked != nil {
		if err := t.revoked.Add(ctx, id, c.UserID, exp); err != nil {
			return err
		}
	}
	t.Deny(id, exp)
	if t.OnRevoke != nil {
		t.OnRevoke(id, exp)
	}
	return nil
}

// Deny applies a revocation recorded elsewhere (another replica's event, the table):
// a token or session id, or a user's tokens (RevokeUser).
func (t *Tokens) Deny(id string, exp time.Time) {
	if uid, at, ok := parseUserDenial(id); ok {
		t.denied.addUser(uid, at, exp)
		return
	}
	t.denied.add(id, exp)
}
