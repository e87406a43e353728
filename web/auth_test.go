package web

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

func TestAuthMatrix(t *testing.T) {
	env := newEnv(t)
	ctx := context.Background()
	uid := env.newUser("keyowner@example.com")
	good, goodKey := env.newKey(&uid, nil, "history", "code_generation")
	noScope, _ := env.newKey(nil, nil, "code_generation")
	admin, _ := env.newKey(nil, nil, "admin")
	past := time.Now().Add(-time.Hour)
	expiredKey, _ := env.newKey(&uid, &past, "history")
	revoked, rk := env.newKey(&uid, nil, "history")
	if err := env.db.APIKeys().Revoke(ctx, rk.ID); err != nil {
		t.Fatal(err)
	}
	base := probeServer(t, env)

	pair, err := env.srv.tokens.Pair(42, "a@example.com")
	if err != nil {
		t.Fatal(err)
	}
	expired := signTest(t, testSecret, jwt.MapClaims{"sub": "a@example.com", "user_id": 42, "token_type": "access", "exp": time.Now().Add(-time.Hour).Unix()})
	wrongSig := signTest(t, []byte("another-secret-0123456789"), jwt.MapClaims{"sub": "a@example.com", "user_id": 42, "token_type": "access", "exp": time.Now().Add(time.Hour).Unix()})
	noExp := signTest(t, testSecret, jwt.MapClaims{"sub": "a@example.com", "user_id": 42, "token_type": "access"})
	none := "eyJhbGciOiJub25lIiwidHlwIjoiSldUIn0.eyJ1c2VyX2lkIjo0MiwidG9rZW5fdHlwZSI6ImFjY2VzcyIsImV4cCI6NDEwMjQ0NDgwMH0."

	cases := []struct {
		name   string
		hdr    []string
		status int
		code   string
		userID float64
	}{
		{"missing", nil, 401, "E4003", 0},
		{"unknown key", []string{"X-API-Key", "hapa_nope0123456789012345678901234567"}, 401, "E4003", 0},
		{"key without prefix", []string{"X-API-Key", "nope"}, 401, "E4003", 0},
		{"expired key", []string{"X-API-Key", expiredKey}, 401, "E4006", 0},
		{"revoked key", []string{"X-API-Key", revoked}, 401, "E4007", 0},
		{"wrong scope", []string{"X-API-Key", noScope}, 403, "E4005", 0},
		{"admin holds every scope", []string{"X-API-Key", admin}, 200, "", 0},
		{"key in X-API-Key", []string{"X-API-Key", good}, 200, "", float64(uid)},
		{"key as bearer", []string{"Authorization", "Bearer " + good}, 200, "", float64(uid)},
		{"X-API-Key wins over bearer", []string{"X-API-Key", good, "Authorization", "Bearer " + pair.AccessToken}, 200, "", float64(uid)},
		{"bad X-API-Key does not fall back to bearer", []string{"X-API-Key", "hapa_bad", "Authorization", "Bearer " + pair.AccessToken}, 401, "E4003", 0},
		{"JWT valid", []string{"Authorization", "Bearer " + pair.AccessToken}, 200, "", 42},
		{"JWT refresh token is not access", []string{"Authorization", "Bearer " + pair.RefreshToken}, 401, "E4003", 0},
		{"JWT expired", []string{"Authorization", "Bearer " + expired}, 401, "E4003", 0},
		{"JWT wrong signature", []string{"Authorization", "Bearer " + wrongSig}, 401, "E4003", 0},
		{"JWT without exp", []string{"Authorization", "Bearer " + noExp}, 401, "E4003", 0},
		{"JWT alg none", []string{"Authorization", "Bearer " + none}, 401, "E4003", 0},
		{"garbage bearer", []string{"Authorization", "Bearer not-a-jwt"}, 401, "E4003", 0},
		{"basic auth", []string{"Authorization", "Basic dXNlcjpwdw=="}, 401, "E4003", 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := doTo(t, base, "GET", "/test/whoami", nil, tc.hdr...)
			if tc.status != 200 {
				checkError(t, r, tc.status, tc.code)
				return
			}
			if r.StatusCode != 200 {
				t.Fatalf("status %d: %s", r.StatusCode, r.body)
			}
			if m := r.json(t); m["user_id"] != tc.userID {
				t.Errorf("user_id = %v, want %v", m["user_id"], tc.userID)
			}
		})
	}

	t.Run("JWT callers get the extension scopes", func(t *testing.T) {
		m := doTo(t, base, "GET", "/test/whoami", nil, "Authorization", "Bearer "+pair.AccessToken).json(t)
		if fmt.Sprint(m["scopes"]) != "[code_generation code_completion history]" {
			t.Errorf("scopes = %v", m["scopes"])
		}
	})
	t.Run("logs never hold credentials", func(t *testing.T) {
		logs := env.logs.String()
		for _, secret := range []string{good, pair.AccessToken} {
			if contains(logs, secret) {
				t.Errorf("log holds a credential %q", secret[:10])
			}
		}
		if !contains(logs, fmt.Sprintf(`"key_id":%d`, goodKey.ID)) {
			t.Error("access log lacks key_id")
		}
	})
}

func signTest(t *testing.T, secret []byte, c jwt.MapClaims) string {
	t.Helper()
	s, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestAuthDatabaseDown(t *testing.T) {
	env := newEnv(t)
	base := probeServer(t, env)
	env.db.Close()
	checkError(t, doTo(t, base, "GET", "/test/whoami", nil, "X-API-Key", "hapa_0123456789012345678901234567890123456789"), 503, "E5003")
}
