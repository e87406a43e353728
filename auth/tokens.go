package auth

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// Token types in the token_type claim (as the DB-Module issued them).
const (
	TokenAccess  = "access"
	TokenRefresh = "refresh"
)

// Claims are the JWT claims: sub is the e-mail and user_id the users.id, as the
// DB-Module's tokens had; jti identifies the token for logout.
type Claims struct {
	UserID    int64  `json:"user_id"`
	TokenType string `json:"token_type"`
	jwt.RegisteredClaims
}

// TokenPair is a login answer.
type TokenPair struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token,omitempty"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

// Tokens signs and verifies HS256 JWTs and keeps the logout denylist.
type Tokens struct {
	secret     []byte
	accessTTL  time.Duration
	refreshTTL time.Duration
	now        func() time.Time
	denied     *denylist
}

func NewTokens(secret []byte, accessTTL, refreshTTL time.Duration, now func() time.Time) *Tokens {
	return &Tokens{secret: secret, accessTTL: accessTTL, refreshTTL: refreshTTL, now: now, denied: newDenylist(now)}
}

// Pair issues an access and a refresh token for the user.
func (t *Tokens) Pair(userID int64, email string) (TokenPair, error) {
	access, err := t.sign(userID, email, TokenAccess, t.accessTTL)
	if err != nil {
		return TokenPair{}, err
	}
	refresh, err := t.sign(userID, email, TokenRefresh, t.refreshTTL)
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{AccessToken: access, RefreshToken: refresh, TokenType: "bearer", ExpiresIn: int64(t.accessTTL / time.Second)}, nil
}

// Access issues only an access token (refresh answers).
func (t *Tokens) Access(userID int64, email string) (TokenPair, error) {
	access, err := t.sign(userID, email, TokenAccess, t.accessTTL)
	if err != nil {
		return TokenPair{}, err
	}
	return TokenPair{AccessToken: access, TokenType: "bearer", ExpiresIn: int64(t.accessTTL / time.Second)}, nil
}

func (t *Tokens) sign(userID int64, email, typ string, ttl time.Duration) (string, error) {
	now := t.now()
	var jti [12]byte
	_, _ = rand.Read(jti[:])
	c := Claims{
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
	case c.ID != "" && t.denied.has(c.ID):
		return nil, fmt.Errorf("%w: logged out", ErrBadToken)
	}
	return &c, nil
}

// Revoke puts the token's id on the denylist until it expires.
func (t *Tokens) Revoke(c *Claims) {
	if c.ID == "" || c.ExpiresAt == nil {
		return
	}
	t.denied.add(c.ID, c.ExpiresAt.Time)
}
