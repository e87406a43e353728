package admin

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/hapa-project/hapa/store"
)

func TestEveryPageRenders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.login()
	pages := map[string]string{
		"/admin/":           "overview-live",
		"/admin/errors":     "incidents-empty",
		"/admin/cache":      "cache-table",
		"/admin/keys":       "keys-filter",
		"/admin/keys/new":   "key-form",
		"/admin/users":      "users-table",
		"/admin/upstreams":  "upstreams-table",
		"/admin/playground": "pg-form",
		"/admin/audit":      "audit-filter",
	}
	for path, testid := range pages {
		t.Run(path, func(t *testing.T) {
			res := b.get(path)
			wantStatus(t, res, http.StatusOK)
			if res.testid(testid).Length() == 0 {
				t.Fatalf("no %s\n%s", testid, res.Body)
			}
			if res.testid("sim-banner").Length() != 1 {
				t.Fatal("no simulator banner")
			}
			if !strings.Contains(res.testid("sim-banner").Text(), "VLLM_SERVER_URL") {
				t.Fatal("banner does not say how to leave the simulator")
			}
		})
	}
}

func TestNoBannerWithRealUpstream(t *testing.T) {
	t.Parallel()
	e := newEnv(t, func(d *Deps) { d.Upstreams = fakeUpstreams{sim: false} })
	b := e.browser()
	b.login()
	if b.get("/admin/").testid("sim-banner").Length() != 0 {
		t.Fatal("banner without the simulator")
	}
}

func TestUnknownPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.login()
	res := b.get("/admin/nope")
	wantStatus(t, res, http.StatusNotFound)
	if res.testid("error-page").Length() != 1 {
		t.Fatal("no error page")
	}
}

func TestHTMLIsEscaped(t *testing.T) {
	t.Parallel()
	const evil = `<script>alert(1)</script>`
	e := newEnv(t)
	ctx := context.Background()
	u, err := e.db.Users().Create(ctx, store.User{Email: "x@example.com", Name: evil})
	if err != nil {
		t.Fatal(err)
	}
	profile, _ := json.Marshal(map[string]any{"projectContext": evil, "preferredLanguageFeatures": []string{evil}})
	if _, err := e.db.Settings().Put(ctx, store.UserSettings{UserID: u.ID, Profile: profile}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.login()
	createKey(t, b, url.Values{"owner": {"x@example.com"}, "name": {evil}, "scope": {"history"}})
	for _, path := range []string{"/admin/users", "/admin/users/" + itoa(u.ID), "/admin/keys", "/admin/keys?q=" + url.QueryEscape(evil)} {
		t.Run(path, func(t *testing.T) {
			res := b.get(path)
			wantStatus(t, res, http.StatusOK)
			if strings.Contains(res.Body, evil) {
				t.Fatal("unescaped markup in the page")
			}
			if !strings.Contains(res.Body, "&lt;script&gt;") {
				t.Fatal("the value is not shown escaped")
			}
			res.Doc.Find("script").Each(func(_ int, s *goquery.Selection) {
				if src, _ := s.Attr("src"); src == "" {
					t.Fatalf("inline script in the page: %q", s.Text())
				}
			})
		})
	}
}

func TestCacheClearNeedsConfirmation(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	_ = e.cache.Set(ctx, "code_generation", "k1", []byte("v"), time.Hour)
	_ = e.cache.Set(ctx, "user_profiles", "k2", []byte("v"), time.Hour)
	b := e.browser()
	b.login()
	page := b.get("/admin/cache")
	href, _ := page.testid("cache-clear-code_generation").Attr("href")
	confirm := b.get(href)
	wantStatus(t, confirm, http.StatusOK)
	if confirm.testid("cache-confirm").Length() != 1 || e.cache.Len() != 2 {
		t.Fatal("the confirmation page cleared or is missing")
	}
	// A POST without the confirmation goes back to the confirmation step.
	res := b.post("/admin/cache/clear", url.Values{"ns": {"code_generation"}})
	wantStatus(t, res, http.StatusSeeOther)
	if e.cache.Len() != 2 {
		t.Fatal("cleared without confirmation")
	}
	res = b.post("/admin/cache/clear", url.Values{"ns": {"code_generation"}, "confirm": {"yes"}})
	wantStatus(t, res, http.StatusSeeOther)
	if e.cache.Len() != 1 {
		t.Fatalf("%d entries left, want 1", e.cache.Len())
	}
	after := b.get(res.Header.Get("Location"))
	if after.testid("flash").Length() != 1 {
		t.Fatal("no flash")
	}
	b.post("/admin/cache/clear", url.Values{"ns": {"all"}, "confirm": {"yes"}})
	if e.cache.Len() != 0 {
		t.Fatal("clear all left entries")
	}
	wantStatus(t, b.get("/admin/cache/clear?ns=nope"), http.StatusNotFound)
	wantStatus(t, b.post("/admin/cache/clear", url.Values{"ns": {"nope"}, "confirm": {"yes"}}), http.StatusNotFound)
}

func TestErrorsAndIncident(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	now := e.clock.Now()
	id := store.NewIncidentID(now)
	if _, err := e.db.Incidents().Insert(ctx, store.Incident{ID: id, Code: "E5001", CreatedAt: now.Add(-time.Minute),
		Path: "/api/v1/code/generate", RequestID: "req-123", Message: "AI model timeout <b>", Detail: "upstream: deadline", HTTPStatus: 504}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.login()
	for _, period := range []string{"1h", "24h", "7d", "30d", "bogus"} {
		res := b.get("/admin/errors?period=" + period)
		wantStatus(t, res, http.StatusOK)
		if res.testid("incident-row").Length() != 1 || res.testid("code-row").Length() != 1 {
			t.Fatalf("%s: rows missing\n%s", period, res.Body)
		}
		if res.testid("errors-chart").Find("rect").Length() == 0 {
			t.Fatalf("%s: no chart bars", period)
		}
	}
	det := b.get("/admin/errors/" + id)
	wantStatus(t, det, http.StatusOK)
	if det.testid("incident-request-id").Text() != "req-123" || !strings.Contains(det.testid("incident-message").Text(), "<b>") {
		t.Fatalf("detail %q", det.testid("incident-detail").Text())
	}
	wantStatus(t, b.get("/admin/errors/INC-20260101-DEADBEEF"), http.StatusNotFound)
}

func TestOverviewFigures(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	now := e.clock.Now()
	var rows []store.RequestLogRow
	for i := range 10 {
		r := store.RequestLogRow{CreatedAt: now.Add(-time.Duration(i) * 20 * time.Second), Kind: "generation",
			Adapter: "prompt", TokensIn: 10, TokensOut: 30, TTFTMs: 40, LatencyMs: float64(100 + i), Status: 200}
		if i == 0 {
			r.Status, r.ErrorCode = 504, "E5001"
		}
		if i%2 == 0 {
			r.Cached = true
		}
		rows = append(rows, r)
	}
	if err := e.db.RequestLog().InsertBatch(ctx, rows); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.login()
	for _, path := range []string{"/admin/", "/admin/overview/live"} {
		res := b.get(path)
		wantStatus(t, res, http.StatusOK)
		checks := map[string]string{"stat-rpm": "2.0", "stat-errors": "10.0 %", "stat-cache": "50.0 %", "stat-tps": "1.0", "stat-replicas": "1 / 1"}
		for id, want := range checks {
			if got := res.testid(id).Find(".value").Text(); !strings.Contains(got, want) {
				t.Errorf("%s %s = %q, want %q", path, id, got, want)
			}
		}
		if res.testid("chart-rpm").Find("rect").Length() == 0 {
			t.Errorf("%s: no chart", path)
		}
	}
	frag := b.get("/admin/overview/live")
	if frag.Doc.Find("html > body > section#live").Length() != 1 || strings.Contains(frag.Body, "<nav") {
		t.Fatal("the live fragment is not a bare section")
	}
}

func TestUserDetail(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	ctx := context.Background()
	u, _ := e.db.Users().Create(ctx, store.User{Email: "dev@example.com", Name: "Dev"})
	profile, _ := json.Marshal(map[string]any{"pythonSkillLevel": "expert"})
	if _, err := e.db.Settings().Put(ctx, store.UserSettings{UserID: u.ID, Profile: profile}); err != nil {
		t.Fatal(err)
	}
	uid := u.ID
	if err := e.db.RequestLog().InsertBatch(ctx, []store.RequestLogRow{{CreatedAt: e.clock.Now().Add(-time.Hour), UserID: &uid, TokensIn: 5, TokensOut: 7, Status: 200}}); err != nil {
		t.Fatal(err)
	}
	b := e.browser()
	b.login()
	createKey(t, b, url.Values{"owner": {"dev@example.com"}, "scope": {"history"}})
	res := b.get("/admin/users/" + itoa(u.ID))
	wantStatus(t, res, http.StatusOK)
	if !strings.Contains(res.testid("user-profile").Text(), "expert") {
		t.Fatal("profile missing")
	}
	if res.testid("key-row").Length() != 1 {
		t.Fatal("keys missing")
	}
	if !strings.Contains(res.testid("user-usage").Text(), "5 / 7") {
		t.Fatalf("usage %q", res.testid("user-usage").Text())
	}
	wantStatus(t, b.get("/admin/users/999"), http.StatusNotFound)
	wantStatus(t, b.get("/admin/users/abc"), http.StatusNotFound)
}

func TestPlaygroundKeyLifecycle(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.login()
	page := b.get("/admin/playground")
	key, _ := page.testid("pg-form").Attr("data-key")
	wsURL, _ := page.testid("pg-form").Attr("data-endpoint")
	if !strings.HasPrefix(key, "hapa_") || wsURL != "ws://console.example/api/v1/realtime" {
		t.Fatalf("key %q url %q", key, wsURL)
	}
	ctx := context.Background()
	k, err := e.db.APIKeys().ByHash(ctx, store.HashKey(key))
	if err != nil {
		t.Fatal(err)
	}
	if k.Name != playgroundKeyName || k.ExpiresAt == nil || k.ExpiresAt.Sub(e.clock.Now()) != time.Hour ||
		!k.HasScope(store.ScopeCodeGeneration) || !k.HasScope(store.ScopeCodeCompletion) || k.HasScope(store.ScopeAdmin) {
		t.Fatalf("playground key %+v", k)
	}
	// A reload replaces the key; logout revokes the last one.
	again, _ := b.get("/admin/playground").testid("pg-form").Attr("data-key")
	if k, _ = e.db.APIKeys().ByID(ctx, k.ID); k.RevokedAt == nil {
		t.Fatal("the previous playground key is still live")
	}
	b.post("/admin/logout", nil)
	k2, _ := e.db.APIKeys().ByHash(ctx, store.HashKey(again))
	if k2.RevokedAt == nil {
		t.Fatal("logout left the playground key live")
	}
}
