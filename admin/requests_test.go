package admin

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/hapa-project/hapa/store"
)

// seedRequests writes n rows a minute apart ending now, for key k of user u; every
// third row failed with a 504, every fourth is a cache hit.
func seedRequests(t *testing.T, e *env, n int, k, u int64) {
	t.Helper()
	now := e.clock.Now()
	var rows []store.RequestLogRow
	for i := range n {
		r := store.RequestLogRow{CreatedAt: now.Add(-time.Duration(i) * time.Minute), RequestID: "req-" + itoa(i),
			KeyID: &k, UserID: &u, Route: "POST /api/v1/code/generate", Kind: "generation", Adapter: "prompt",
			Status: 200, TTFTMs: 40, LatencyMs: 400, TokensIn: 10, TokensOut: 20, UpstreamIn: 10, UpstreamOut: 20,
			Upstream: "http://vllm-a:8000"}
		if i%3 == 0 {
			r.Status, r.ErrorCode = 504, "E5001"
		}
		if i%4 == 0 {
			r.Cached, r.UpstreamIn, r.UpstreamOut, r.Upstream = true, 0, 0, ""
		}
		rows = append(rows, r)
	}
	if err := e.db.RequestLog().InsertBatch(context.Background(), rows); err != nil {
		t.Fatal(err)
	}
}

func TestRequestLogPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.login()
	page := createKey(t, b, url.Values{"owner": {"dev@example.com"}, "scope": {"code_generation"}})
	kid, _ := page.testid("key-row").Attr("data-key-id")
	owner, _ := e.db.Users().ByEmail(context.Background(), "dev@example.com")
	seedRequests(t, e, 120, mustInt(t, kid), owner.ID)

	first := b.get("/admin/requests")
	wantStatus(t, first, http.StatusOK)
	if n := first.testid("request-row").Length(); n != requestsPerPage {
		t.Fatalf("first page %d rows", n)
	}
	if got, _ := first.testid("request-row").First().Attr("data-request-id"); got != "req-0" {
		t.Fatalf("newest first: %q", got)
	}
	// Keyset pages cover the rows once each.
	seen := map[string]bool{}
	next := "/admin/requests"
	for next != "" {
		p := b.get(next)
		p.testid("request-row").Each(func(_ int, s *goquery.Selection) {
			id, _ := s.Attr("data-request-id")
			if seen[id] {
				t.Fatalf("%s twice", id)
			}
			seen[id] = true
		})
		next, _ = p.testid("requests-next").Attr("href")
	}
	if len(seen) != 120 {
		t.Fatalf("paged over %d rows", len(seen))
	}
	for q, want := range map[string]int{
		"class=5xx&range=all":                             40,
		"class=ok&range=all":                              80,
		"status=504&range=all":                            40,
		"code=e5001&range=all":                            40,
		"cached=yes&range=all":                            30,
		"cached=no&coalesced=no&class=5xx&range=all":      30,
		"range=1h":                                        60,
		"request_id=req-7&range=all":                      1,
		"key=" + kid + "&range=all&class=ok":              80,
		"user=dev%40example.com&range=all&cached=yes":     30,
		"upstream=http%3A%2F%2Fvllm-a%3A8000&range=all":   90,
		"user=nobody%40example.com&range=all":             0,
		"from=2026-12-01T11%3A00&to=2026-12-01T11%3A30":   30,
		"route=POST+%2Fapi%2Fv1%2Fcode%2Fgenerate&limit=": 50,
	} {
		res := b.get("/admin/requests?" + q)
		wantStatus(t, res, http.StatusOK)
		n := res.testid("request-row").Length()
		if want > requestsPerPage {
			want = requestsPerPage
		}
		if n != want {
			t.Errorf("%s: %d rows, want %d", q, n, want)
		}
	}
	bad := b.get("/admin/requests?status=abc&key=x&from=yesterday")
	wantStatus(t, bad, http.StatusOK)
	if got := bad.testid("requests-problems").Find("li").Length(); got != 3 {
		t.Fatalf("%d problems listed", got)
	}

	// The detail page has every column and links to key, user and replica.
	href, _ := b.get("/admin/requests?request_id=req-1&range=all").testid("request-link").Attr("href")
	d := b.get(href)
	wantStatus(t, d, http.StatusOK)
	if d.testid("request-id").Text() != "req-1" || !strings.Contains(d.testid("request-upstream").Text(), "vllm-a") {
		t.Fatalf("detail %s", d.testid("request-detail").Text())
	}
	if h, _ := d.testid("request-key").Attr("href"); h != "/admin/keys/"+kid {
		t.Fatalf("key link %q", h)
	}
	if h, _ := d.testid("request-user").Attr("href"); h != "/admin/users/"+itoa(owner.ID) {
		t.Fatalf("user link %q", h)
	}
	for _, missing := range []string{"/admin/requests/999999", "/admin/requests/x"} {
		wantStatus(t, b.get(missing), http.StatusNotFound)
	}
}

func TestIncidentWorkflowPage(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.login()
	seedRequests(t, e, 4, 0, 0)
	in, err := e.db.Incidents().Insert(context.Background(), store.Incident{Code: "E5001", Path: "/api/v1/code/generate",
		RequestID: "req-3", Message: "AI model timeout", HTTPStatus: 504, CreatedAt: e.clock.Now()})
	if err != nil {
		t.Fatal(err)
	}
	path := "/admin/errors/" + in.ID
	p := b.get(path)
	wantStatus(t, p, http.StatusOK)
	if p.testid("request-row").Length() != 1 || p.testid("request-replica").Length() != 1 {
		t.Fatalf("the incident does not show its request and replica:\n%s", p.testid("requests-table").Text())
	}
	if p.testid("incident-acknowledge").Length() != 1 || p.testid("incident-reopen").Length() != 0 {
		t.Fatal("an open incident offers the wrong actions")
	}
	for _, step := range []struct{ action, note, state string }{
		{"acknowledge", "on it", "acknowledged"},
		{"note", "replica a restarted", "acknowledged"},
		{"resolve", "timeouts gone", "resolved"},
		{"reopen", "", "open"},
		{"resolve", "", "resolved"},
	} {
		res := b.post(path+"/workflow", url.Values{"action": {step.action}, "note": {step.note}})
		after := b.follow(res)
		if got := strings.TrimSpace(after.testid("incident-state").Text()); got != step.state {
			t.Fatalf("after %s: state %q", step.action, got)
		}
	}
	p = b.get(path)
	if n := p.testid("incident-history-item").Length(); n != 5 {
		t.Fatalf("%d history items", n)
	}
	if got := p.testid("incident-history-note").First().Text(); got != "on it" {
		t.Fatalf("first note %q", got)
	}
	wantStatus(t, b.post(path+"/workflow", url.Values{"action": {"resolve"}}), http.StatusConflict)
	wantStatus(t, b.post(path+"/workflow", url.Values{"action": {"delete"}}), http.StatusBadRequest)
	wantStatus(t, b.post("/admin/errors/INC-none/workflow", url.Values{"action": {"resolve"}}), http.StatusNotFound)

	audit := b.get("/admin/audit?target=incident%3A" + in.ID)
	if n := audit.testid("audit-row").Length(); n != 5 {
		t.Fatalf("%d audit rows for the incident", n)
	}
	// The errors page filters incidents by state and lists failed requests.
	errs := b.get("/admin/errors?state=resolved")
	if errs.testid("incident-row").Length() != 1 {
		t.Fatal("the resolved incident is not listed")
	}
	if b.get("/admin/errors?state=open").testid("incidents-empty").Length() != 1 {
		t.Fatal("an open incident is listed")
	}
	if n := errs.testid("request-row").Length(); n != 2 { // req-0 and req-3 failed
		t.Fatalf("%d failed requests listed", n)
	}
}
