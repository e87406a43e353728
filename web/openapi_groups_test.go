package web

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime/limits"
)

// TestOpenAPIRateLimitGroups: the rate-limit group the OpenAPI document gives a route
// (x-rate-limit-group) is the one its requests are counted in. Every group gets a limit
// of its own, so X-RateLimit-Limit names the group that counted a request, and a
// route the document gives no group must send no X-RateLimit headers. It covers the
// routes that need no engine or upstream: public, user (JWT) and admin ones. (The
// logins were documented as "default" though they are counted in "auth".)
func TestOpenAPIRateLimitGroups(t *testing.T) {
	groups := []string{limits.GroupGeneration, limits.GroupStream, limits.GroupCompletion, limits.GroupOps, limits.GroupAuth, limits.GroupDefault}
	rules := map[string]limits.Rate{}
	byLimit := map[string]string{}
	for i, g := range groups {
		rules[g] = limits.Rate{Limit: int64(1001 + i), Period: time.Hour}
		byLimit[strconv.Itoa(1001+i)] = g
	}
	env := newEnv(t, withLimiter(newLimiter(t, nil, "", rules)), selfSignup,
		func(c *Config, _ *Deps) { c.LoginDelay = time.Millisecond })
	tok := env.login("groups@example.com")
	admin, _ := env.newKey(nil, nil, ScopeAdmin)
	checked := 0
	ops := apiOps()
	slices.SortStableFunc(ops, func(a, b apiOp) int { // logging out ends tok: last
		return cmp.Compare(b2i(a.path == "/auth/logout"), b2i(b.path == "/auth/logout"))
	})
	for _, op := range ops {
		var hdr []string
		switch {
		case op.auth == public || op.auth == optionalKey:
		case op.auth == jwtOnly || op.auth == anyKey && (op.scope == "" || op.scope == ScopeHistory):
			hdr = bearer(tok)
		case op.auth == anyKey && op.scope == ScopeAdmin:
			hdr = []string{"X-API-Key", admin}
		default:
			continue // engine and upstream routes: their limits are tested with the engine
		}
		path := strings.NewReplacer("{id}", "INC-20240101-00000000", "{session_id}", "1").Replace(op.path)
		var body any
		if op.method == "POST" || op.method == "DELETE" {
			body = map[string]any{}
		}
		r := env.do(op.method, path, body, hdr...)
		if hdr != nil && (r.StatusCode == 401 || r.StatusCode == 403) {
			t.Errorf("%s %s: %d, so its limit was not reached: %s", op.method, op.path, r.StatusCode, r.body)
		}
		got := byLimit[r.Header.Get("X-RateLimit-Limit")]
		if got != op.group {
			t.Errorf("%s %s: documented group %q, counted in %q (status %d)", op.method, op.path, op.group, got, r.StatusCode)
		}
		checked++
	}
	if checked < 30 {
		t.Fatalf("checked only %d routes", checked)
	}
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}
