package admin

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"

	"github.com/hapa-project/hapa/auth"
	"github.com/hapa-project/hapa/store"
)

func TestUserSearch(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.login()
	ctx := context.Background()
	for _, u := range []store.User{{Email: "ada@example.com", Name: "Ada Lovelace"}, {Email: "bob@example.com", Name: "Bob"},
		{Email: "ops@example.com", Name: "Ada's colleague", Role: store.RoleAdmin}} {
		if _, err := e.db.Users().Create(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	bob, _ := e.db.Users().ByEmail(ctx, "bob@example.com")
	if _, err := e.db.Users().Disable(ctx, bob.ID); err != nil {
		t.Fatal(err)
	}
	for q, want := range map[string]int{"": 4, "q=ADA": 2, "q=bob%40": 1, "role=admin": 2, "status=disabled": 1,
		"status=active&q=ada": 2, "q=nobody": 0} {
		res := b.get("/admin/users?" + q)
		wantStatus(t, res, http.StatusOK)
		if n := res.testid("user-row").Length(); n != want {
			t.Errorf("%q: %d rows, want %d", q, n, want)
		}
	}
	if got := strings.TrimSpace(b.get("/admin/users?q=bob").testid("user-status").Text()); got != "disabled" {
		t.Fatalf("bob's status %q", got)
	}
}

func TestUserDisableEnableDelete(t *testing.T) {
	t.Parallel()
	var tokens *auth.Tokens
	e := newEnv(t, func(d *Deps) {
		tokens = auth.NewTokens([]byte("0123456789abcdef-secret"), time.Hour, 24*time.Hour, d.Now, d.DB.RevokedTokens())
		d.Tokens = tokens
	})
	b := e.browser()
	b.login()
	ctx := context.Background()
	page := createKey(t, b, url.Values{"owner": {"dev@example.com"}, "scope": {"code_generation"}})
	kid, _ := page.testid("key-row").Attr("data-key-id")
	createKey(t, b, url.Values{"owner": {"dev@example.com"}, "scope": {"history"}})
	dev, _ := e.db.Users().ByEmail(ctx, "dev@example.com")
	jwt, err := tokens.Pair(dev.ID, dev.Email)
	if err != nil {
		t.Fatal(err)
	}
	path := "/admin/users/" + itoa(dev.ID)

	confirm := b.get(path + "/disable")
	wantStatus(t, confirm, http.StatusOK)
	if !strings.Contains(confirm.testid("user-confirm").Text(), "2 active keys") {
		t.Fatalf("confirmation %q", confirm.testid("user-confirm").Text())
	}
	if res := b.post(path+"/disable", nil); res.StatusCode != http.StatusSeeOther || len(e.revoked) != 0 {
		t.Fatal("an unconfirmed disable did something")
	}
	after := b.follow(b.post(path+"/disable", url.Values{"confirm": {"yes"}}))
	if got := strings.TrimSpace(after.testid("user-detail-status").Text()); got != "disabled" {
		t.Fatalf("status %q", got)
	}
	if len(e.revoked) != 2 || !slices.Contains(e.revoked, mustInt(t, kid)) {
		t.Fatalf("revoked %v", e.revoked)
	}
	if _, err := tokens.Parse(jwt.AccessToken, auth.TokenAccess); !errors.Is(err, auth.ErrBadToken) {
		t.Fatalf("the disabled user's JWT: %v", err)
	}
	if n, _ := e.db.APIKeys().CountActive(ctx, dev.ID); n != 0 {
		t.Fatalf("%d keys still active", n)
	}
	if after.testid("audit-row-action").First().Text() != actUserDisable {
		t.Fatal("the user's history does not show the disable")
	}
	// A key cannot be made for a disabled account.
	wantStatus(t, b.post("/admin/keys", url.Values{"owner": {"dev@example.com"}, "scope": {"history"}}), http.StatusUnprocessableEntity)

	enabled := b.follow(b.post(path+"/enable", nil))
	if got := strings.TrimSpace(enabled.testid("user-detail-status").Text()); got != "active" {
		t.Fatalf("status after enable %q", got)
	}

	// Role changes: promote, demote.
	b.follow(b.post(path+"/role", url.Values{"role": {"admin"}}))
	if u, _ := e.db.Users().ByID(ctx, dev.ID); u.Role != store.RoleAdmin {
		t.Fatalf("role %q", u.Role)
	}
	b.follow(b.post(path+"/role", url.Values{"role": {"user"}}))
	wantStatus(t, b.post(path+"/role", url.Values{"role": {"root"}}), http.StatusBadRequest)

	// Delete needs the e-mail typed.
	wantStatus(t, b.post(path+"/delete", url.Values{"confirm_email": {"someone@example.com"}}), http.StatusUnprocessableEntity)
	gone := b.follow(b.post(path+"/delete", url.Values{"confirm_email": {"DEV@example.com"}}))
	if gone.testid("flash").Length() != 1 {
		t.Fatal("no flash after delete")
	}
	if _, err := e.db.Users().ByID(ctx, dev.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("user after delete: %v", err)
	}
	wantStatus(t, b.get(path), http.StatusNotFound)
	audit := b.get("/admin/audit?target=user%3A" + itoa(dev.ID))
	var actions []string
	audit.testid("audit-row-action").Each(func(_ int, s *goquery.Selection) { actions = append(actions, s.Text()) })
	if strings.Join(actions, ",") != "user.delete,user.role,user.role,user.enable,user.disable" {
		t.Fatalf("audit %v", actions)
	}
}

func TestNoSelfLockout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.login()
	self := "/admin/users/" + itoa(e.admin.ID)
	for _, res := range []response{
		b.get(self + "/disable"),
		b.post(self+"/disable", url.Values{"confirm": {"yes"}}),
		b.post(self+"/role", url.Values{"role": {"user"}}),
		b.post(self+"/delete", url.Values{"confirm_email": {testEmail}}),
	} {
		wantStatus(t, res, http.StatusConflict)
	}
	if b.get(self).testid("user-disable").Length() != 0 {
		t.Fatal("the own page offers to disable oneself")
	}
	// The last active admin cannot be demoted by another admin either.
	ctx := context.Background()
	hash := adminHash()
	other, err := e.db.Users().Create(ctx, store.User{Email: "ops@example.com", Role: store.RoleAdmin, PasswordHash: &hash})
	if err != nil {
		t.Fatal(err)
	}
	b.follow(b.post("/admin/users/"+itoa(other.ID)+"/disable", url.Values{"confirm": {"yes"}}))
	ob := e.browser()
	ob.e.admin = other
	// other is disabled: its sessions end and it cannot sign in.
	if res := ob.post("/admin/login", url.Values{"email": {"ops@example.com"}, "password": {testPassword}}); res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("a disabled admin signs in: %d", res.StatusCode)
	}
	wantStatus(t, b.post("/admin/users/"+itoa(other.ID)+"/enable", nil), http.StatusSeeOther)
}
