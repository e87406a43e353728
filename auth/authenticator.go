package auth

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// Config is auth's part of the configuration. A zero field means the documented
// default.
type Config struct {
	JWTSecret     []byte        // HS256 secret (SECRET_KEY); required, at least 16 bytes
	AccessTTL     time.Duration // access token lifetime; default 30m
	RefreshTTL    time.Duration // refresh token lifetime; default 7d
	KeyCacheTTL   time.Duration // API_KEY_CACHE_TTL: how long a key lookup is reused; default 10s
	KeyStaleTTL   time.Duration // API_KEY_STALE_TTL: how long it may answer while the database is away; default 15m
	RevalidateTTL time.Duration // a live socket's key row is read at most this often; default 10s
	// CheckInterval (REVOCATION_CHECK_INTERVAL) is how often Watch re-reads revoked
	// keys and logged-out tokens from the database; default 5s.
	CheckInterval time.Duration
}

// Defaults of Config.
const (
	DefaultAccessTTL     = 30 * time.Minute
	DefaultRefreshTTL    = 7 * 24 * time.Hour
	DefaultKeyCacheTTL   = 10 * time.Second
	DefaultRevalidateTTL = 10 * time.Second
	DefaultCheckInterval = 5 * time.Second
)

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	def(&c.AccessTTL, DefaultAccessTTL)
	def(&c.RefreshTTL, DefaultRefreshTTL)
	def(&c.KeyCacheTTL, DefaultKeyCacheTTL)
	def(&c.RevalidateTTL, DefaultRevalidateTTL)
	def(&c.CheckInterval, DefaultCheckInterval)
	return c
}

// Deps are the authenticator's collaborators.
type Deps struct {
	DB  *store.DB        // required: api_keys
	Now func() time.Time // default time.Now
}

// JWTScopes are granted to a user signed in with a JWT (the extension's onboarding
// token).
var JWTScopes = []string{store.ScopeCodeGeneration, store.ScopeCodeCompletion, store.ScopeHistory}

// Authenticator resolves a request's credential to a Caller. It is safe for concurrent
// use; cmd/hapa builds one and hands it to both transports.
type Authenticator struct {
	cfg    Config
	db     *store.DB
	keys   *Keys
	tokens *Tokens
	now    func() time.Time

	mu   sync.Mutex
	seen map[int64]keyCheck // Revalidate's recent answers, by key id
}

// New builds an authenticator; it fails on an invalid configuration.
func New(cfg Config, deps Deps) (*Authenticator, error) {
	cfg = cfg.withDefaults()
	var errs []error
	if deps.DB == nil {
		errs = append(errs, errors.New("auth: Deps.DB is required"))
	}
	if len(cfg.JWTSecret) < 16 {
		errs = append(errs, fmt.Errorf("auth: JWT secret must be at least 16 bytes (got %d)", len(cfg.JWTSecret)))
	}
	if err := errors.Join(errs...); err != nil {
		return nil, err
	}
	now := deps.Now
	if now == nil {
		now = time.Now
	}
	a := &Authenticator{cfg: cfg, db: deps.DB, now: now,
		keys:   NewKeys(deps.DB.APIKeys(), cfg.KeyCacheTTL, now),
		tokens: NewTokens(cfg.JWTSecret, cfg.AccessTTL, cfg.RefreshTTL, now, deps.DB.RevokedTokens()),
		seen:   map[int64]keyCheck{}}
	if cfg.KeyStaleTTL > 0 {
		a.keys.StaleTTL = cfg.KeyStaleTTL
	}
	return a, nil
}

// UseBreaker makes key lookups consult the database's breaker (Keys.DB).
func (a *Authenticator) UseBreaker(b Breaker) { a.keys.DB = b }

// Keys is the API-key cache (revocation invalidates it; Run flushes last-used times).
func (a *Authenticator) Keys() *Keys { return a.keys }

// Tokens issues, verifies and revokes JWTs.
func (a *Authenticator) Tokens() *Tokens { return a.tokens }

// Authenticate resolves the request's X-API-Key or Authorization: Bearer (API key or
// JWT) to a caller. It does not check scopes (see MissingScope).
func (a *Authenticator) Authenticate(r *http.Request) (realtime.Caller, *realtime.Error) {
	cred, isJWT, present := Credential(r)
	if !present {
		return realtime.Caller{}, realtime.NewError(realtime.CodeInvalidKey,
			"API key required: send X-API-Key or Authorization: Bearer")
	}
	if cred == "" {
		return realtime.Caller{}, realtime.NewError(realtime.CodeInvalidKey, "Malformed Authorization header (want: Bearer <token>)")
	}
	if isJWT {
		c, err := a.tokens.Parse(cred, TokenAccess)
		if err != nil {
			e := realtime.NewError(realtime.CodeInvalidKey, "Invalid or expired token")
			e.Detail, e.Err = err.Error(), err
			return realtime.Caller{}, e
		}
		return realtime.Caller{UserID: c.UserID, Scopes: slices.Clone(JWTScopes)}, nil
	}
	k, err := a.keys.Lookup(r.Context(), cred)
	if err != nil {
		return realtime.Caller{}, keyError(err)
	}
	return CallerFromKey(k), nil
}

// CallerFromKey is the caller an API key stands for: its ids, scopes and quotas.
func CallerFromKey(k store.APIKey) realtime.Caller {
	c := realtime.Caller{
		KeyID:  k.ID,
		Scopes: slices.Clone([]string(k.Scopes)),
		Quota:  realtime.Quota{TokensPerMinute: int64(k.TokensPerMinute), TokensPerDay: int64(k.TokensPerDay)},
	}
	if k.UserID != nil {
		c.UserID = *k.UserID
	}
	return c
}

// MissingScope returns the first scope of want not granted by have, or "". The admin
// scope holds them all.
func MissingScope(have, want []string) string {
	if slices.Contains(have, store.ScopeAdmin) {
		return ""
	}
	for _, w := range want {
		if !slices.Contains(have, w) {
			return w
		}
	}
	return ""
}
