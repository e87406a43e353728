package admin

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

func createKey(t *testing.T, b *browser, form url.Values) response {
	t.Helper()
	res := b.post("/admin/keys", form)
	wantStatus(t, res, http.StatusCreated)
	return res
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

	rot := b.post("/admin/keys/"+id+"/rotate", nil)
	wantStatus(t, rot, http.StatusOK)
	newPlain := rot.testid("key-plaintext").Text()
	if !strings.HasPrefix(newPlain, "hapa_") {
		t.Fatalf("rotated key %q", newPlain)
	}
	wantStatus(t, b.post("/admin/keys/"+id+"/rotate", nil), http.StatusConflict)

	list := b.get("/admin/keys?status=active")
	if list.testid("key-row").Length() != 1 {
		t.Fatalf("active rows: %d", list.testid("key-row").Length())
	}
	newID, _ := list.testid("key-row").Attr("data-key-id")
	res := b.post("/admin/keys/"+newID+"/revoke", nil)
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
}

func TestRevokeMissingKey(t *testing.T) {
	t.Parallel()
	for _, id := range []string{"999", "0", "abc", "-1"} {
		t.Run(id, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			b.login()
			for _, verb := range []string{"revoke", "rotate"} {
				res := b.post("/admin/keys/"+id+"/"+verb, nil)
				wantStatus(t, res, http.StatusNotFound)
				if res.testid("error-page").Length() != 1 {
					t.Fatal("no error page")
				}
			}
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
