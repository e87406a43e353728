package admin

import (
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
)

// createKey posts the create form, follows the redirect to the key's page and returns
// that page (which shows the plaintext once).
func createKey(t *testing.T, b *browser, form url.Values) response {
	t.Helper()
	res := b.post("/admin/keys", form)
	wantStatus(t, res, http.StatusSeeOther)
	if !strings.HasPrefix(res.Header.Get("Location"), "/admin/keys/") {
		t.Fatalf("create redirects to %q", res.Header.Get("Location"))
	}
	if strings.Contains(res.Header.Get("Location"), "hapa_") {
		t.Fatal("the key is in the redirect URL")
	}
	return b.follow(res)
}

func TestKeyCreateShowsKeyOnce(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.login()
	res := createKey(t, b, url.Values{"owner": {"dev@example.com"}, "name": {"laptop"},
		"scope": {"code_generation", "code_completion"}, "days": {"30"}})
	plain := strings.TrimSpace(res.testid("key-plaintext").Text())
	if !strings.HasPrefix(plain, "hapa_") || len(plain) < 40 {
		t.Fatalf("plaintext %q", plain)
	}
	if res.testid("key-copy").Length() != 1 {
		t.Fatal("no copy button")
	}
	// A reload shows the key without its plaintext, and mints nothing.
	id, _ := res.testid("key-row").Attr("data-key-id")
	reload := b.get("/admin/keys/" + id)
	wantStatus(t, reload, http.StatusOK)
	if reload.testid("key-plaintext").Length() != 0 || strings.Contains(reload.Body, plain) {
		t.Fatal("a reload shows the plaintext again")
	}
	if _, n, _ := e.db.APIKeys().List(context.Background(), store.KeyFilter{}); n != 1 {
		t.Fatalf("%d keys after a reload", n)
	}
	// The audit log names who created it.
	audit := b.get("/admin/audit")
	if got := audit.testid("audit-row-action").First().Text(); got != actKeyCreate {
		t.Fatalf("audit action %q", got)
	}
	if got := audit.testid("audit-row-actor").First().Text(); got != testEmail {
		t.Fatalf("audit actor %q", got)
	}
	list := b.get("/admin/keys")
	wantStatus(t, list, http.StatusOK)
	if strings.Contains(list.Body, plain) {
		t.Fatal("the key list shows the full key")
	}
	rows := list.testid("key-row")
	if rows.Length() != 1 {
		t.Fatalf("%d rows", rows.Length())
	}
	prefix := strings.TrimSuffix(rows.Find(`[data-testid="key-prefix"]`).Text(), "…")
	if !strings.HasPrefix(plain, prefix) || len(prefix) >= len(plain) {
		t.Fatalf("prefix %q of %q", prefix, plain)
	}
	if !strings.Contains(rows.Text(), "dev@example.com") || !strings.Contains(rows.Text(), "code_generation, code_completion") {
		t.Fatalf("row %q", rows.Text())
	}
	if got := strings.TrimSpace(rows.Find(`[data-testid="key-status"]`).Text()); got != "active" {
		t.Fatalf("status %q", got)
	}
}

func TestKeyCreateValidation(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		form url.Values
		want string
	}{
		{"no owner", url.Values{"scope": {"history"}}, "owner's e-mail"},
		{"no scope", url.Values{"owner": {"a@example.com"}}, "at least one scope"},
		{"unknown scope only", url.Values{"owner": {"a@example.com"}, "scope": {"root"}}, "at least one scope"},
		{"bad days", url.Values{"owner": {"a@example.com"}, "scope": {"history"}, "days": {"-1"}}, "whole number of days"},
		{"bad quota", url.Values{"owner": {"a@example.com"}, "scope": {"history"}, "tokens_per_day": {"many"}}, "quotas"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			b.login()
			res := b.post("/admin/keys", tt.form)
			wantStatus(t, res, http.StatusUnprocessableEntity)
			if !strings.Contains(res.testid("key-errors").Text(), tt.want) {
				t.Fatalf("errors %q, want %q", res.testid("key-errors").Text(), tt.want)
			}
		})
	}
}

func TestKeyRevokeAndRotate(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.login()
	createKey(t, b, url.Values{"owner": {"dev@example.com"}, "scope": {"code_generation"}})
	id, _ := b.get("/admin/keys").testid("key-row").Attr("data-key-id")

	// Rotate asks first; a POST without the confirmation goes to the question.
	confirm := b.get("/admin/keys/" + id + "/rotate")
	wantStatus(t, confirm, http.StatusOK)
	if confirm.testid("key-confirm").Length() != 1 {
		t.Fatal("no confirmation page")
	}
	unconfirmed := b.post("/admin/keys/"+id+"/rotate", nil)
	wantStatus(t, unconfirmed, http.StatusSeeOther)
	if loc := unconfirmed.Header.Get("Location"); loc != "/admin/keys/"+id+"/rotate" {
		t.Fatalf("unconfirmed rotate goes to %q", loc)
	}
	if len(e.revoked) != 0 {
		t.Fatal("an unconfirmed rotation revoked the key")
	}
	rot := b.follow(b.post("/admin/keys/"+id+"/rotate", url.Values{"confirm": {"yes"}}))
	newPlain := rot.testid("key-plaintext").Text()
	if !strings.HasPrefix(newPlain, "hapa_") {
		t.Fatalf("rotated key %q", newPlain)
	}
	wantStatus(t, b.post("/admin/keys/"+id+"/rotate", url.Values{"confirm": {"yes"}}), http.StatusConflict)

	list := b.get("/admin/keys?status=active")
	if list.testid("key-row").Length() != 1 {
		t.Fatalf("active rows: %d", list.testid("key-row").Length())
	}
	newID, _ := list.testid("key-row").Attr("data-key-id")
	if b.post("/admin/keys/"+newID+"/revoke", nil); len(e.revoked) != 1 {
		t.Fatal("an unconfirmed revoke revoked the key")
	}
	res := b.post("/admin/keys/"+newID+"/revoke", url.Values{"confirm": {"yes"}})
	wantStatus(t, res, http.StatusSeeOther)
	after := b.get(res.Header.Get("Location"))
	if after.testid("flash").Length() != 1 {
		t.Fatal("no flash after revoke")
	}
	if n := b.get("/admin/keys?status=revoked").testid("key-row").Length(); n != 2 {
		t.Fatalf("revoked rows: %d", n)
	}
	if len(e.revoked) != 2 || itoa(e.revoked[0]) != id || itoa(e.revoked[1]) != newID {
		t.Fatalf("OnRevoke calls %v", e.revoked)
	}
	// The key's page answers "who revoked it?".
	page := b.get("/admin/keys/" + newID)
	if got := page.testid("audit-row-action").First().Text(); got != actKeyRevoke {
		t.Fatalf("key history starts with %q", got)
	}
	if got := page.testid("audit-row-actor").First().Text(); got != testEmail {
		t.Fatalf("revoked by %q", got)
	}
}

func TestKeyEdit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.login()
	page := createKey(t, b, url.Values{"owner": {"dev@example.com"}, "name": {"old"}, "scope": {"code_generation"}, "days": {"0"}})
	id, _ := page.testid("key-row").Attr("data-key-id")

	res := b.post("/admin/keys/"+id+"/edit", url.Values{"name": {"new name"}, "scope": {"code_completion", "history"},
		"expires": {"2027-01-31"}, "tokens_per_minute": {"1000"}, "tokens_per_day": {"50000"}})
	after := b.follow(res)
	if after.testid("flash").Length() != 1 {
		t.Fatal("no flash after save")
	}
	k, err := e.db.APIKeys().ByID(context.Background(), mustInt(t, id))
	if err != nil {
		t.Fatal(err)
	}
	if k.Name != "new name" || strings.Join(k.Scopes, ",") != "code_completion,history" || k.TokensPerMinute != 1000 ||
		k.TokensPerDay != 50000 || k.ExpiresAt == nil || !k.ExpiresAt.Equal(time.Date(2027, 1, 31, 0, 0, 0, 0, time.UTC)) {
		t.Fatalf("stored %+v", k)
	}
	if got := after.testid("audit-row-detail").First().Text(); !strings.Contains(got, `name "old" → "new name"`) ||
		!strings.Contains(got, "tokens/day 0 → 50000") || !strings.Contains(got, "expires never → 2027-01-31") {
		t.Fatalf("audit detail %q", got)
	}

	for name, form := range map[string]url.Values{
		"no scope": {"name": {"x"}},
		"bad date": {"scope": {"history"}, "expires": {"31/01/2027"}},
		"bad tpm":  {"scope": {"history"}, "tokens_per_minute": {"-5"}},
	} {
		res := b.post("/admin/keys/"+id+"/edit", form)
		wantStatus(t, res, http.StatusUnprocessableEntity)
		if res.testid("key-edit-errors").Length() != 1 {
			t.Fatalf("%s: no errors shown", name)
		}
	}
	b.post("/admin/keys/"+id+"/revoke", url.Values{"confirm": {"yes"}})
	wantStatus(t, b.post("/admin/keys/"+id+"/edit", url.Values{"scope": {"history"}}), http.StatusConflict)
}

// TestKeyListIsCurrent: "last used" comes from the request log when it is newer than
// the flushed last_used_at, and the quotas are listed.
func TestKeyListIsCurrent(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.login()
	page := createKey(t, b, url.Values{"owner": {"dev@example.com"}, "scope": {"history"}, "tokens_per_day": {"5000"}})
	id, _ := page.testid("key-row").Attr("data-key-id")
	if got := strings.TrimSpace(b.get("/admin/keys").testid("key-last-used").Text()); got != "never" {
		t.Fatalf("last used before any request %q", got)
	}
	owner, _ := e.db.Users().ByEmail(context.Background(), "dev@example.com")
	seedRequests(t, e, 3, mustInt(t, id), owner.ID)
	list := b.get("/admin/keys")
	if got, _ := list.testid("key-last-used").Find("time").Attr("datetime"); got != rfc3339(e.clock.Now()) {
		t.Fatalf("last used %q, want the newest request %s", got, rfc3339(e.clock.Now()))
	}
	if got := strings.TrimSpace(list.testid("key-quotas").Text()); got != "∞, 5000" {
		t.Fatalf("quotas %q", got)
	}
}

func TestKeyFlashIsBoundToTheSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	a := e.browser()
	a.login()
	res := a.post("/admin/keys", url.Values{"owner": {"dev@example.com"}, "scope": {"history"}})
	wantStatus(t, res, http.StatusSeeOther)
	if a.flash == nil {
		t.Fatal("no flash cookie")
	}
	if strings.Contains(a.flash.Value, "hapa_") {
		t.Fatal("the flash cookie holds the key in clear")
	}
	// Another admin's session cannot open it.
	other := e.browser()
	other.login()
	other.flash = a.flash
	if page := other.get(res.Header.Get("Location")); page.testid("key-plaintext").Length() != 0 {
		t.Fatal("another session opened the flash cookie")
	}
	// Nor can a tampered cookie be opened.
	tampered := *a.flash
	tampered.Value = "A" + tampered.Value[1:]
	a.flash = &tampered
	if page := a.get(res.Header.Get("Location")); page.testid("key-plaintext").Length() != 0 {
		t.Fatal("a tampered flash cookie was opened")
	}
}

func mustInt(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestRevokeMissingKey(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"999", "0", "abc", "-1"} {
		t.Run(id, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			b.login()
			for _, verb := range []string{"revoke", "rotate", "edit"} {
				res := b.post("/admin/keys/"+id+"/"+verb, url.Values{"confirm": {"yes"}})
				wantStatus(t, res, http.StatusNotFound)
				if res.testid("error-page").Length() != 1 {
					t.Fatal("no error page")
				}
			}
			wantStatus(t, b.get("/admin/keys/"+id), http.StatusNotFound)
		})
	}
}

func TestKeyFilterAndPaging(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.login()
	for i := range keysPerPage + 3 {
		owner := "alice@example.com"
		if i%2 == 1 {
			owner = "bob@example.com"
		}
		createKey(t, b, url.Values{"owner": {owner}, "scope": {"history"}})
	}
	first := b.get("/admin/keys")
	if first.testid("key-row").Length() != keysPerPage || first.testid("keys-next").Length() != 1 {
		t.Fatalf("first page: %d rows", first.testid("key-row").Length())
	}
	next, _ := first.testid("keys-next").Attr("href")
	second := b.get(next)
	if second.testid("key-row").Length() != 3 || second.testid("keys-prev").Length() != 1 {
		t.Fatalf("second page: %d rows", second.testid("key-row").Length())
	}
	bob := b.get("/admin/keys?q=BOB")
	if n := bob.testid("key-row").Length(); n != (keysPerPage+3)/2 {
		t.Fatalf("bob's keys: %d", n)
	}
	if b.get("/admin/keys?status=revoked").testid("keys-empty").Length() != 1 {
		t.Fatal("no empty state")
	}
}
