package web

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime/limits"
	"github.com/hapa-project/hapa/store"
)

// TestGenerateKeyNeverWidensTheCaller: a key holder minting a key through
// generate-api-key gets at most its own scopes, quotas and expiry.
func TestGenerateKeyNeverWidensTheCaller(t *testing.T) {
	env := newEnv(t, func(c *Config, _ *Deps) { c.SelfSignup = true })
	ctx := context.Background()
	uid := env.newUser("dev@example.com")
	exp := time.Now().Add(48 * time.Hour)
	plain, _, err := env.db.APIKeys().Create(ctx, store.NewKey{UserID: &uid, Name: "narrow",
		Scopes: store.Scopes{ScopeHistory}, ExpiresAt: &exp, TokensPerDay: 10})
	if err != nil {
		t.Fatal(err)
	}

	r := env.do("POST", "/api/v1/users/generate-api-key", map[string]any{}, "X-API-Key", plain)
	if r.StatusCode != 200 {
		t.Fatalf("generate: %d %s", r.StatusCode, r.body)
	}
	m := r.json(t)
	perms, _ := m["permissions"].([]any)
	if len(perms) != 1 || perms[0] != ScopeHistory || m["expires_in_days"] != float64(2) {
		t.Fatalf("issued key widened the caller: %s", r.body)
	}
	k, err := env.auth.Keys().Lookup(ctx, m["api_key"].(string))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal([]string(k.Scopes), []string{ScopeHistory}) || k.TokensPerDay != 10 || k.ExpiresAt == nil || k.ExpiresAt.After(exp) {
		t.Fatalf("stored key %+v", k)
	}

	// A JWT caller gets the scopes the extension needs.
	r = env.do("POST", "/api/v1/users/generate-api-key", map[string]any{}, bearer(env.login("dev@example.com"))...)
	if perms, _ := r.json(t)["permissions"].([]any); len(perms) != len(issuedKeyScopes) {
		t.Fatalf("JWT caller: %s", r.body)
	}
}

// TestLoginsAreRateLimited: the login, refresh and key-issuing routes share the "auth"
// group per client IP, so passwords cannot be guessed at full speed.
func TestLoginsAreRateLimited(t *testing.T) {
	l, err := limits.NewLimiter(limits.Config{Rules: map[string]limits.Rate{limits.GroupAuth: {Limit: 3, Period: time.Minute}}}, limits.Deps{})
	if err != nil {
		t.Fatal(err)
	}
	env := newEnv(t, func(c *Config, d *Deps) { c.LoginDelay = time.Millisecond; d.Ops = OpsDeps{Limiter: l} })
	body := map[string]any{"email": "x@example.com", "password": "guess"}
	for i := range 3 {
		checkError(t, env.do("POST", []string{"/auth/login", "/api/v1/users/login", "/auth/refresh"}[i], body), map[int]int{0: 401, 1: 401, 2: 400}[i], map[int]string{0: "E4003", 1: "E4003", 2: "E4002"}[i])
	}
	r := env.do("POST", "/api/v1/users/login", body)
	checkError(t, r, 429, "E4004")
	if r.Header.Get("Retry-After") == "" {
		t.Fatal("429 without Retry-After")
	}
}

// TestTokenResponsesAreNotCached: the DB-module login answers with tokens; no cache
// may keep them.
func TestTokenResponsesAreNotCached(t *testing.T) {
	env := newEnv(t, func(c *Config, _ *Deps) { c.SelfSignup = true })
	r := env.do("POST", "/auth/login", map[string]any{"email": "dev@example.com"})
	if r.StatusCode != 200 || r.Header.Get("Cache-Control") != "no-store" {
		t.Fatalf("login: %d Cache-Control %q", r.StatusCode, r.Header.Get("Cache-Control"))
	}
}
