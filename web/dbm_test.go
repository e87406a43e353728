package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/hapa-project/hapa/auth"
)

func TestDBModuleAuth(t *testing.T) {
	env := newEnv(t, selfSignup)
	r := env.do("POST", "/auth/login", map[string]any{"email": "ext@example.com"})
	if r.StatusCode != 200 {
		t.Fatalf("login %d %s", r.StatusCode, r.body)
	}
	var pair auth.TokenPair
	if err := json.Unmarshal(r.body, &pair); err != nil || pair.ExpiresIn != 1800 || pair.TokenType != "bearer" || pair.RefreshToken == "" {
		t.Fatalf("login body %s", r.body)
	}

	t.Run("claims the extension and the original backend read", func(t *testing.T) {
		var c jwt.MapClaims
		if _, _, err := jwt.NewParser().ParseUnverified(pair.AccessToken, &c); err != nil {
			t.Fatal(err)
		}
		exp, _ := c.GetExpirationTime()
		if c["sub"] != "ext@example.com" || c["token_type"] != "access" || c["user_id"] == nil || c["jti"] == nil ||
			exp == nil || time.Until(exp.Time) > 31*time.Minute || time.Until(exp.Time) < 29*time.Minute {
			t.Errorf("claims = %v", c)
		}
	})
	t.Run("users/me", func(t *testing.T) {
		m := env.do("GET", "/users/me", nil, bearer(pair.AccessToken)...).json(t)
		if m["email"] != "ext@example.com" || m["username"] != nil {
			t.Errorf("me = %v", m)
		}
		checkError(t, env.do("GET", "/users/me", nil), 401, "E4003")
	})
	t.Run("refresh", func(t *testing.T) {
		r := env.do("POST", "/auth/refresh", map[string]any{"refresh_token": pair.RefreshToken})
		if r.StatusCode != 200 {
			t.Fatalf("%d %s", r.StatusCode, r.body)
		}
		m := r.json(t)
		if m["access_token"] == "" || m["token_type"] != "bearer" || m["expires_in"] != float64(1800) {
			t.Errorf("refresh body %s", r.body)
		}
		if _, has := m["refresh_token"]; has {
			t.Error("refresh answered a new refresh token")
		}
		if r := env.do("GET", "/users/me", nil, bearer(m["access_token"].(string))...); r.StatusCode != 200 {
			t.Errorf("refreshed token rejected: %d", r.StatusCode)
		}
		checkError(t, env.do("POST", "/auth/refresh", map[string]any{}), 400, "E4002")
		checkError(t, env.do("POST", "/auth/refresh", map[string]any{"refresh_token": "garbage"}), 401, "E4003")
		checkError(t, env.do("POST", "/auth/refresh", map[string]any{"refresh_token": pair.AccessToken}), 401, "E4003")
		checkError(t, env.do("POST", "/auth/refresh", map[string]any{"refresh_token": 5}), 400, "E4001")
	})
	t.Run("settings/options", func(t *testing.T) {
		var opts []settingOption
		if err := json.Unmarshal(env.do("GET", "/settings/options", nil, bearer(pair.AccessToken)...).body, &opts); err != nil {
			t.Fatal(err)
		}
		want := "[{3 code_output_structure minimal} {4 code_output_structure standard} {5 code_output_structure detailed} " +
			"{6 explanation_style brief} {7 explanation_style standard} {8 explanation_style detailed} {9 explanation_style educational} " +
			"{1 python_skill_level beginner} {2 python_skill_level intermediate}]"
		if fmt.Sprint(opts) != want {
			t.Errorf("options = %v", opts)
		}
	})
	t.Run("settings/me", func(t *testing.T) {
		if r := env.do("GET", "/settings/me", nil, bearer(pair.AccessToken)...); r.StatusCode != 200 || string(r.body) != "[]\n" {
			t.Fatalf("initial: %d %s", r.StatusCode, r.body)
		}
		r := env.do("POST", "/settings/me", map[string]any{"option_ids": []int{1, 3, 6}}, bearer(pair.AccessToken)...)
		if r.StatusCode != 204 || len(r.body) != 0 {
			t.Fatalf("POST: %d %s", r.StatusCode, r.body)
		}
		var sel []settingOption
		_ = json.Unmarshal(env.do("GET", "/settings/me", nil, bearer(pair.AccessToken)...).body, &sel)
		if fmt.Sprint(optionIDs(sel)) != "[1 3 6]" {
			t.Errorf("selected = %v", sel)
		}
	})
	t.Run("logout revokes the token", func(t *testing.T) {
		r := env.do("POST", "/auth/logout", nil, bearer(pair.AccessToken)...)
		if r.StatusCode != 204 {
			t.Fatalf("logout %d %s", r.StatusCode, r.body)
		}
		checkError(t, env.do("GET", "/users/me", nil, bearer(pair.AccessToken)...), 401, "E4003")
		checkError(t, env.do("POST", "/auth/logout", nil, bearer(pair.AccessToken)...), 401, "E4003")
		checkError(t, env.do("POST", "/auth/logout", nil), 401, "E4003")
	})
	t.Run("logout with the refresh token revokes both", func(t *testing.T) {
		var p auth.TokenPair
		_ = json.Unmarshal(env.do("POST", "/auth/login", map[string]any{"email": "ext@example.com"}).body, &p)
		if r := env.do("POST", "/auth/logout", map[string]any{"refresh_token": p.RefreshToken}, bearer(p.AccessToken)...); r.StatusCode != 204 {
			t.Fatalf("logout %d", r.StatusCode)
		}
		checkError(t, env.do("POST", "/auth/refresh", map[string]any{"refresh_token": p.RefreshToken}), 401, "E4003")
	})
}

func TestDBModuleHandler(t *testing.T) {
	env := newEnv(t, selfSignup)
	ts := httptest.NewServer(env.srv.DBModuleHandler())
	t.Cleanup(ts.Close)
	r := doTo(t, ts.URL, "POST", "/auth/login", map[string]any{"email": "port@example.com"})
	if r.StatusCode != 200 {
		t.Fatalf("login on the DB-module port: %d %s", r.StatusCode, r.body)
	}
	tok := r.json(t)["access_token"].(string)
	if r := doTo(t, ts.URL, "GET", "/history/sessions", nil, bearer(tok)...); r.StatusCode != 200 {
		t.Errorf("history on the DB-module port: %d", r.StatusCode)
	}
	for _, path := range []string{"/health", "/history/health", "/"} {
		if r := doTo(t, ts.URL, "GET", path, nil); r.StatusCode != 200 {
			t.Errorf("%s on the DB-module port: %d", path, r.StatusCode)
		}
	}
	checkError(t, doTo(t, ts.URL, "POST", "/api/v1/users/login", map[string]any{"email": "port@example.com"}), 404, "E4011")
	if r.Header.Get("X-Request-ID") == "" {
		t.Error("DB-module handler lacks the middleware")
	}
}

func TestProfileChangedHook(t *testing.T) {
	var changed []int64
	env := newEnv(t, selfSignup, func(_ *Config, d *Deps) {
		d.ProfileChanged = func(_ context.Context, id int64) { changed = append(changed, id) }
	})
	tok := env.login("hook@example.com")
	env.do("POST", "/settings/me", map[string]any{"option_ids": []int{1}}, bearer(tok)...)
	env.do("POST", "/api/v1/users/profile", map[string]any{"profile_data": map[string]any{"skillLevel": "expert"}}, bearer(tok)...)
	env.do("POST", "/settings/me", map[string]any{"option_ids": []int{99}}, bearer(tok)...) // rejected: no call
	if len(changed) != 2 || changed[0] == 0 || changed[0] != changed[1] {
		t.Errorf("ProfileChanged calls = %v", changed)
	}
}
