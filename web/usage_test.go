package web

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
)

func TestUsageAPI(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	u1, u2 := e.newUser("ada@example.com"), e.newUser("bob@example.com")
	k1Plain, k1 := e.newKey(&u1, nil, ScopeCodeCompletion)
	k2Plain, k2 := e.newKey(&u2, nil, ScopeCodeGeneration)
	adminPlain, _ := e.newKey(nil, nil, ScopeAdmin)
	now := time.Now().UTC()
	var rows []store.RequestLogRow
	add := func(n int, key *int64, user int64, mod func(i int, r *store.RequestLogRow)) {
		for i := range n {
			uid := user
			r := store.RequestLogRow{CreatedAt: now.Add(-time.Duration(i) * 10 * time.Minute), KeyID: key, UserID: &uid,
				Route: "POST /api/v1/code/complete", Adapter: "completion", Status: 200, TokensIn: 100, TokensOut: 10,
				UpstreamIn: 100, UpstreamOut: 10, TTFTMs: 50, LatencyMs: 200}
			if mod != nil {
				mod(i, &r)
			}
			rows = append(rows, r)
		}
	}
	add(10, &k1.ID, u1, func(i int, r *store.RequestLogRow) {
		if i < 3 {
			r.Cached, r.UpstreamIn, r.UpstreamOut, r.LatencyMs, r.TTFTMs = true, 0, 0, 0.5, 0.3
		}
		if i == 5 {
			r.Status, r.ErrorCode = 504, "E5001"
		}
	})
	add(2, nil, u1, nil) // a JWT of the same user
	add(5, &k2.ID, u2, func(_ int, r *store.RequestLogRow) { r.Adapter, r.Route = "prompt", "POST /api/v1/code/generate" })
	if err := e.db.RequestLog().InsertBatch(ctx, rows); err != nil {
		t.Fatal(err)
	}
	// Completion feedback: key 1 had two completions shown and one accepted (python),
	// key 2 one shown and accepted (go).
	chars := 9
	var evs []store.CompletionEvent
	for i, c := range []struct {
		id, event, lang string
		key             *int64
		user            int64
	}{{"cmpl-1", "shown", "python", &k1.ID, u1}, {"cmpl-1", "accepted", "python", &k1.ID, u1},
		{"cmpl-2", "shown", "python", &k1.ID, u1}, {"cmpl-2", "dismissed", "python", &k1.ID, u1},
		{"cmpl-3", "shown", "go", &k2.ID, u2}, {"cmpl-3", "accepted", "go", &k2.ID, u2}} {
		uid := c.user
		ev := store.CompletionEvent{CompletionID: c.id, Event: c.event, CreatedAt: now.Add(-time.Duration(i) * time.Millisecond),
			CompletionAt: now.Add(-time.Minute), KeyID: c.key, UserID: &uid, Language: c.lang, Adapter: "autocomplete", ModelFamily: "deepseek-coder"}
		if c.event == "accepted" {
			ev.AcceptedChars = &chars
		}
		evs = append(evs, ev)
	}
	if err := e.db.CompletionEvents().InsertBatch(ctx, evs); err != nil {
		t.Fatal(err)
	}
	totals := func(m map[string]any) map[string]any { return m["totals"].(map[string]any) }
	completions := func(m map[string]any) map[string]any { return m["completions"].(map[string]any) }

	own := e.do("GET", "/api/v1/usage", nil, "X-API-Key", k1Plain)
	if own.StatusCode != http.StatusOK {
		t.Fatalf("own usage: %d %s", own.StatusCode, own.body)
	}
	m := own.json(t)
	if tot := totals(m); tot["requests"] != 10.0 || tot["cache_hits"] != 3.0 || tot["server_errors"] != 1.0 ||
		tot["upstream_tokens_in"] != 700.0 || tot["cache_tokens_in"] != 300.0 || tot["served"] != 7.0 {
		t.Fatalf("totals %v", tot)
	}
	if lat := totals(m)["latency_ms"].(map[string]any); lat["p50"].(float64) < 141 || lat["p50"].(float64) > 283 {
		t.Fatalf("latency %v (200 ms served, cache hits apart)", lat)
	}
	if m["period"] != "7d" || m["step"] != "day" || len(m["series"].([]any)) != 7 || m["filter"].(map[string]any)["key_id"] != float64(k1.ID) {
		t.Fatalf("shape %v %v %d %v", m["period"], m["step"], len(m["series"].([]any)), m["filter"])
	}
	if _, ok := m["top_keys"]; ok {
		t.Fatal("a key's own usage lists top keys")
	}
	if c := completions(m); c["shown"] != 2.0 || c["accepted"] != 1.0 || c["dismissed"] != 1.0 || c["acceptance_rate"] != 0.5 ||
		c["accepted_chars"] != 9.0 || len(c["series"].([]any)) != 7 || len(c["by_language"].([]any)) != 1 || c["by_key"] != nil {
		t.Fatalf("own completions %v", c)
	}
	// A JWT reports its user's usage: the keys' and the JWT's requests.
	pair, err := e.auth.Tokens().Pair(u1, "ada@example.com")
	if err != nil {
		t.Fatal(err)
	}
	if got := totals(e.do("GET", "/api/v1/usage?period=24h", nil, "Authorization", "Bearer "+pair.AccessToken).json(t))["requests"]; got != 12.0 {
		t.Fatalf("user usage %v, want 12", got)
	}
	if got := totals(e.do("GET", "/api/v1/usage?period=30d&step=hour", nil, "X-API-Key", k2Plain).json(t))["requests"]; got != 5.0 {
		t.Fatalf("k2 usage %v", got)
	}

	all := e.do("GET", "/api/v1/admin/usage?period=24h", nil, "X-API-Key", adminPlain)
	if all.StatusCode != http.StatusOK {
		t.Fatalf("admin usage: %d %s", all.StatusCode, all.body)
	}
	m = all.json(t)
	if totals(m)["requests"] != 17.0 || len(m["series"].([]any)) != 24 {
		t.Fatalf("admin totals %v, %d buckets", totals(m)["requests"], len(m["series"].([]any)))
	}
	top := m["top_keys"].([]any)
	if len(top) != 3 || top[0].(map[string]any)["key_id"] != float64(k1.ID) || top[0].(map[string]any)["requests"] != 10.0 {
		t.Fatalf("top keys %v", top)
	}
	if n := len(m["by_adapter"].([]any)); n != 2 {
		t.Fatalf("%d adapters", n)
	}
	if len(m["top_users"].([]any)) != 2 {
		t.Fatalf("top users %v", m["top_users"])
	}
	c := completions(m)
	if c["shown"] != 3.0 || c["accepted"] != 2.0 || len(c["by_key"].([]any)) != 2 || len(c["by_user"].([]any)) != 2 ||
		len(c["by_language"].([]any)) != 2 || c["by_language"].([]any)[0].(map[string]any)["group"] != "python" {
		t.Fatalf("admin completions %v", c)
	}
	if s := c["series"].([]any); len(s) != 24 || s[23].(map[string]any)["shown"] != 3.0 {
		t.Fatalf("admin completion series %v", s)
	}
	byUser := e.do("GET", "/api/v1/admin/usage?user_id="+strconv.FormatInt(u2, 10)+"&route=POST+%2Fapi%2Fv1%2Fcode%2Fgenerate", nil, "X-API-Key", adminPlain).json(t)
	if totals(byUser)["requests"] != 5.0 || byUser["top_users"] != nil {
		t.Fatalf("by user %v", byUser)
	}

	checkError(t, e.do("GET", "/api/v1/usage?period=1y", nil, "X-API-Key", k1Plain), http.StatusUnprocessableEntity, "E4008")
	checkError(t, e.do("GET", "/api/v1/usage?step=minute", nil, "X-API-Key", k1Plain), http.StatusUnprocessableEntity, "E4008")
	checkError(t, e.do("GET", "/api/v1/admin/usage?key_id=abc", nil, "X-API-Key", adminPlain), http.StatusUnprocessableEntity, "E4008")
	checkError(t, e.do("GET", "/api/v1/admin/usage", nil, "X-API-Key", k1Plain), http.StatusForbidden, "E4005")
	checkError(t, e.do("GET", "/api/v1/usage", nil), http.StatusUnauthorized, "E4003")
}
