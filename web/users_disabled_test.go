package web

import (
	"context"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
)

// TestDisabledAccount: a disabled account cannot log in (with a password or by
// self-signup), nor get a key, and its earlier JWTs are refused once the denial is
// recorded; enabled again, it logs in.
func TestDisabledAccount(t *testing.T) {
	for name, mod := range map[string]func(*Config, *Deps){
		"password":    func(c *Config, _ *Deps) { c.LoginDelay = time.Millisecond },
		"self-signup": func(c *Config, _ *Deps) { c.LoginDelay, c.SelfSignup = time.Millisecond, true },
	} {
		t.Run(name, func(t *testing.T) {
			env := newEnv(t, mod)
			ctx := context.Background()
			uid := env.newUser("dev@example.com")
			body := map[string]any{"email": "dev@example.com"}
			if name == "password" {
				hash, err := store.HashPassword("s3cret-pass")
				if err != nil {
					t.Fatal(err)
				}
				if err := env.db.Users().SetPassword(ctx, uid, &hash); err != nil {
					t.Fatal(err)
				}
				body["password"] = "s3cret-pass"
			}
			ok := env.do("POST", "/api/v1/users/login", body)
			if ok.StatusCode != 200 {
				t.Fatalf("login before: %d %s", ok.StatusCode, ok.body)
			}
			jwt := ok.json(t)["access_token"].(string)
			if _, err := env.db.Users().Disable(ctx, uid); err != nil {
				t.Fatal(err)
			}
			if err := env.auth.Tokens().RevokeUser(ctx, uid); err != nil {
				t.Fatal(err)
			}
			checkError(t, env.do("POST", "/api/v1/users/login", body), 401, "E4003")
			checkError(t, env.do("GET", "/api/v1/users/me", nil, "Authorization", "Bearer "+jwt), 401, "E4003")
			checkError(t, env.do("POST", "/api/v1/users/generate-api-key", body), 401, "E4003")
			if err := env.db.Users().Enable(ctx, uid); err != nil {
				t.Fatal(err)
			}
			time.Sleep(1100 * time.Millisecond) // a JWT's iat has whole seconds
			if r := env.do("POST", "/api/v1/users/login", body); r.StatusCode != 200 {
				t.Fatalf("login after enable: %d %s", r.StatusCode, r.body)
			}
		})
	}
}

// TestOnboardingKeepsTheName: the name sent at login names an account that has none,
// and the profile's username renames it.
func TestOnboardingKeepsTheName(t *testing.T) {
	env := newEnv(t, selfSignup)
	ctx := context.Background()
	uid, err := env.db.Users().Create(ctx, store.User{Email: "ada@example.com"}) // made by an admin: no name
	if err != nil {
		t.Fatal(err)
	}
	name := func() string {
		u, err := env.db.Users().ByID(ctx, uid.ID)
		if err != nil {
			t.Fatal(err)
		}
		return u.Name
	}
	r := env.do("POST", "/api/v1/users/login", map[string]any{"email": "ada@example.com", "username": "Ada L."})
	if r.StatusCode != 200 {
		t.Fatalf("login %d %s", r.StatusCode, r.body)
	}
	if got := name(); got != "Ada L." {
		t.Fatalf("name after login %q", got)
	}
	env.do("POST", "/api/v1/users/login", map[string]any{"email": "ada@example.com", "username": "someone else"})
	if got := name(); got != "Ada L." {
		t.Fatalf("a later login renamed the account: %q", got)
	}
	tok := r.json(t)["access_token"].(string)
	p := env.do("POST", "/api/v1/users/profile", map[string]any{"profile_data": map[string]any{"username": "Ada Lovelace", "skillLevel": "expert"}},
		"Authorization", "Bearer "+tok)
	if p.StatusCode != 200 {
		t.Fatalf("profile %d %s", p.StatusCode, p.body)
	}
	if got := name(); got != "Ada Lovelace" {
		t.Fatalf("name after profile %q", got)
	}
	if me := env.do("GET", "/api/v1/users/me", nil, "Authorization", "Bearer "+tok).json(t); me["username"] != "Ada Lovelace" {
		t.Fatalf("me %v", me)
	}
}
