package web

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token types in the token_type claim (as the DB-Module issued them).
const (
	tokenAccess  = "access"
	tokenRefresh = "refresh"
)

// tokenClaims are the JWT claims: sub is the e-mail and user_id the users.id, as the
// DB-Module's tokens had; jti identifies the token for logout.
type tokenClaims struct {
	UserID    int64  `json:"user_id"`
	TokenType string `json:"token_type"`
	jwt.RegisteredClaims
}

// tokenPair is a login answer.
type tokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

// errBadToken covers every JWT that must not be accepted; callers answer E4003.
var errBadToken = errors.New("web: invalid token")

// tokenIssuer signs and verifies HS256 JWTs and keeps the logout denylist.
type tokenIssuer struct {
	secret     []byte
	accessTTL  time.Duration
	refreshTTL time.Duration
	now        func() time.Time
	denied     *denylist
}

func newTokenIssuer(secret []byte, accessTTL, refreshTTL time.Duration, now func() time.Time) *tokenIssuer {
	return &tokenIssuer{secret: secret, accessTTL: accessTTL, refreshTTL: refreshTTL, now: now, denied: newDenylist(now)}
}

// pair issues an access and a refresh token for the user.
func (t *tokenIssuer) pair(userID int64, email string) (tokenPair, error) {
	access, err := t.sign(userID, email, tokenAccess, t.accessTTL)
	if err != nil {
		return tokenPair{}, err
	}
	refresh, err := t.sign(userID, email, tokenRefresh, t.refreshTTL)
	if err != nil {
		return tokenPair{}, err
	}
	return tokenPair{AccessToken: access, RefreshToken: refresh, TokenType: "bearer", ExpiresIn: int64(t.accessTTL / time.Second)}, nil
}

// access issues only an access token (refresh answers).
func (t *tokenIssuer) access(userID int64, email string) (tokenPair, error) {
	access, err := t.sign(userID, email, tokenAccess, t.accessTTL)
	if err != nil {
		return tokenPair{}, err
	}
	return tokenPair{AccessToken: access, TokenType: "bearer", ExpiresIn: int64(t.accessTTL / time.Second)}, nil
}

func (t *tokenIssuer) sign(userID int64, email, typ string, ttl time.Duration) (string, error) {
	now := t.now()
	var jti [12]byte
	_, _ = rand.Read(jti[:])
	c := tokenClaims{
		UserID:    userID,
		TokenType: typ,
		RegisteredClaims: jwt.RegisteredClaims{
			Subject:   email,
			IssuedAt:  jwt.NewNumericDate(now),
			ExpiresAt: jwt.NewNumericDate(now.Add(ttl)),
			ID:        hex.EncodeToString(jti[:]),
		},
	}
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(t.secret)
	if err != nil {
		return "", fmt.Errorf("web: sign token: %w", err)
	}
	return s, nil
}

// parse verifies token (HS256 only, signature, expiry, type, denylist) and returns its
// claims. Every failure is errBadToken, wrapping the reason for the log.
func (t *tokenIssuer) parse(token, wantType string) (*tokenClaims, error) {
	var c tokenClaims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return t.secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}),
		jwt.WithExpirationRequired(),
		jwt.WithTimeFunc(t.now),
		jwt.WithLeeway(5*time.Second))
	switch {
	case err != nil:
		return nil, fmt.Errorf("%w: %w", errBadToken, err)
	case c.TokenType != wantType:
		return nil, fmt.Errorf("%w: token_type %q, want %q", errBadToken, c.TokenType, wantType)
	case c.UserID <= 0:
		return nil, fmt.Errorf("%w: no user_id", errBadToken)
	case c.ID != "" && t.denied.has(c.ID):
		return nil, fmt.Errorf("%w: logged out", errBadToken)
	}
	return &c, nil
}

// revoke puts the token's id on the denylist until it expires.
func (t *tokenIssuer) revoke(c *tokenClaims) {
	if c.ID == "" || c.ExpiresAt == nil {
		return
	}
	t.denied.add(c.ID, c.ExpiresAt.Time)
}
