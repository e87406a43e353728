package web

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
)

func TestLoginWithPasswords(t *testing.T) {
	env := newEnv(t, func(c *Config, _ *Deps) { c.LoginDelay = 20 * time.Millisecond })
	ctx := context.Background()
	uid := env.newUser("alice@example.com")
	hash, err := store.HashPassword("s3cret-pass")
	if err != nil {
		t.Fatal(err)
	}
	if err := env.db.Users().SetPassword(ctx, uid, &hash); err != nil {
		t.Fatal(err)
	}
	env.newUser("nopw@example.com")

	r := env.do("POST", "/api/v1/users/login", map[string]any{"email": "Alice@Example.com", "password": "s3cret-pass"})
	if r.StatusCode != 200 || r.json(t)["access_token"] == "" {
		t.Fatalf("good password: %d %s", r.StatusCode, r.body)
	}
	for name, body := range map[string]map[string]any{
		"wrong password":   {"email": "alice@example.com", "password": "nope"},
		"no password":      {"email": "alice@example.com"},
		"unknown account":  {"email": "mallory@example.com", "password": "x"},
		"account, no hash": {"email": "nopw@example.com", "password": "x"},
	} {
		t.Run(name, func(t *testing.T) {
			start := time.Now()
			m := checkError(t, env.do("POST", "/auth/login", body), 401, "E4003")
			if m["detail"] != "Invalid e-mail or password" {
				t.Errorf("detail = %v", m["detail"])
			}
			if time.Since(start) < 20*time.Millisecond {
				t.Error("failure answered before the login delay")
			}
		})
	}
	t.Run("bad e-mail", func(t *testing.T) {
		checkError(t, env.do("POST", "/auth/login", map[string]any{"email": "not-an-email"}), 422, "E4008")
		checkError(t, env.do("POST", "/auth/login", map[string]any{"username": "x"}), 400, "E4002")
	})
	t.Run("self-signup still needs the password of an account that has one", func(t *testing.T) {
		env2 := newEnv(t, selfSignup, func(c *Config, _ *Deps) { c.LoginDelay = time.Millisecond })
		id := env2.newUser("admin@example.com")
		if err := env2.db.Users().SetPassword(ctx, id, &hash); err != nil {
			t.Fatal(err)
		}
		checkError(t, env2.do("POST", "/auth/login", map[string]any{"email": "admin@example.com"}), 401, "E4003")
		checkError(t, env2.do("POST", "/api/v1/users/generate-api-key", map[string]any{"email": "admin@example.com"}), 401, "E4003")
	})
}

func TestGenerateKeyRules(t *testing.T) {
	t.Run("without credential needs self-signup", func(t *testing.T) {
		env := newEnv(t)
		checkError(t, env.do("POST", "/api/v1/users/generate-api-key", map[string]any{"email": "x@example.com"}), 401, "E4003")
	})
	env := newEnv(t, selfSignup, func(c *Config, _ *Deps) { c.MaxKeysPerUser = 2; c.KeyExpiry = 30 * 24 * time.Hour })
	t.Run("by e-mail with self-signup, capped", func(t *testing.T) {
		for i := range 2 {
			r := env.do("POST", "/api/v1/users/generate-api-key", map[string]any{"email": "new@example.com", "username": "new"})
			if r.StatusCode != 200 || r.json(t)["expires_in_days"] != float64(30) {
				t.Fatalf("key %d: %d %s", i, r.StatusCode, r.body)
			}
		}
		checkError(t, env.do("POST", "/api/v1/users/generate-api-key", map[string]any{"email": "new@example.com"}), 409, "E4012")
	})
	t.Run("e-mail must match the signed-in user", func(t *testing.T) {
		tok := env.login("owner@example.com")
		checkError(t, env.do("POST", "/api/v1/users/generate-api-key", map[string]any{"email": "other@example.com"}, bearer(tok)...), 403, "E4005")
		if r := env.do("POST", "/api/v1/users/generate-api-key", map[string]any{}, bearer(tok)...); r.StatusCode != 200 {
			t.Errorf("no e-mail with JWT: %d %s", r.StatusCode, r.body)
		}
	})
	t.Run("missing e-mail without credential", func(t *testing.T) {
		checkError(t, env.do("POST", "/api/v1/users/generate-api-key", map[string]any{"username": "x"}), 400, "E4002")
	})
	t.Run("bad credential", func(t *testing.T) {
		checkError(t, env.do("POST", "/api/v1/users/generate-api-key", map[string]any{"email": "new@example.com"}, bearer("garbage")...), 401, "E4003")
	})
}

func TestUsersOversizeBody(t *testing.T) {
	env := newEnv(t, selfSignup, func(c *Config, _ *Deps) { c.MaxBodyBytes = 256 })
	checkError(t, env.do("POST", "/api/v1/users/login", `{"email":"a@b.co","username":"`+strings.Repeat("x", 300)+`"}`), 413, "E4010")
}

// The account a first start creates, admin@localhost, signs in through the API like
// any other; self-signup still creates no account on a dotless domain.
func TestLoginDotlessDomain(t *testing.T) {
	ctx := context.Background()
	hash, err := store.HashPassword("bootstrap-pass")
	if err != nil {
		t.Fatal(err)
	}
	for name, opts := range map[string][]func(*Config, *Deps){
		"password login": {func(c *Config, _ *Deps) { c.LoginDelay = time.Millisecond }},
		"self-signup":    {selfSignup, func(c *Config, _ *Deps) { c.LoginDelay = time.Millisecond }},
	} {
		t.Run(name, func(t *testing.T) {
			env := newEnv(t, opts...)
			id := env.newUser("admin@localhost")
			if err := env.db.Users().SetPassword(ctx, id, &hash); err != nil {
				t.Fatal(err)
			}
			for _, path := range []string{"/auth/login", "/api/v1/users/login"} {
				r := env.do("POST", path, map[string]any{"email": "Admin@localhost", "password": "bootstrap-pass"})
				if r.StatusCode != 200 || r.json(t)["access_token"] == "" {
					t.Fatalf("%s: %d %s", path, r.StatusCode, r.body)
				}
			}
			checkError(t, env.do("POST", "/auth/login", map[string]any{"email": "admin@localhost", "password": "wrong"}), 401, "E4003")
		})
	}
	env := newEnv(t, selfSignup)
	checkError(t, env.do("POST", "/auth/login", map[string]any{"email": "new@localhost"}), 422, "E4008")
	checkError(t, env.do("POST", "/api/v1/users/generate-api-key", map[string]any{"email": "new@localhost"}), 422, "E4008")
	if _, err := env.db.Users().ByEmail(ctx, "new@localhost"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("self-signup created a dotless account: %v", err)
	}
}
