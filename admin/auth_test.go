package admin

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/PuerkitoBio/goquery"
)

func TestLogin(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name, email, password string
		status                int
	}{
		{"success", testEmail, testPassword, http.StatusSeeOther},
		{"success mixed-case e-mail", "Root@Example.com", testPassword, http.StatusSeeOther},
		{"wrong password", testEmail, "wrong password!", http.StatusUnauthorized},
		{"unknown account", "nobody@example.com", testPassword, http.StatusUnauthorized},
		{"empty", "", "", http.StatusUnauthorized},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			res := b.post("/admin/login", url.Values{"email": {tt.email}, "password": {tt.password}})
			wantStatus(t, res, tt.status)
			if tt.status == http.StatusSeeOther {
				if loc := res.Header.Get("Location"); loc != "/admin/" {
					t.Fatalf("redirect to %q", loc)
				}
				home := b.get("/admin/")
				wantStatus(t, home, http.StatusOK)
				if got := home.testid("whoami").Text(); got != testEmail {
					t.Fatalf("whoami %q", got)
				}
				return
			}
			if b.cookie != nil {
				t.Fatal("a failed login set a cookie")
			}
			if got := res.testid("login-error").Text(); got != loginError {
				t.Fatalf("error %q, want the generic message", got)
			}
		})
	}
}

func TestLoginNonAdminRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	u, err := CreateAdmin(context.Background(), e.db, "demoted@example.com", testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.db.Users().SetRole(context.Background(), u.ID, "user"); err != nil {
		t.Fatal(err)
	}
	res := e.browser().post("/admin/login", url.Values{"email": {"demoted@example.com"}, "password": {testPassword}})
	wantStatus(t, res, http.StatusUnauthorized)
}

func TestLoginRateLimit(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	real := e.h.verifyPW
	e.h.verifyPW = func(hash, pw string) (bool, error) { // skip Argon2id for the failures
		if pw != testPassword {
			return false, nil
		}
		return real(hash, pw)
	}
	e.h.dummy = func() string { return "" }
	var slept []time.Duration
	var mu sync.Mutex
	e.h.sleep = func(d time.Duration) { mu.Lock(); slept = append(slept, d); mu.Unlock() }
	from := func(ip string) *browser {
		b := e.browser()
		b.ip = ip
		return b
	}
	attacker := from("203.0.113.7")
	for range 5 {
		wantStatus(t, attacker.post("/admin/login", url.Values{"email": {testEmail}, "password": {"bad"}}), http.StatusUnauthorized)
	}
	// The attacking address is refused, even with the right password…
	res := attacker.post("/admin/login", url.Values{"email": {testEmail}, "password": {testPassword}})
	wantStatus(t, res, http.StatusTooManyRequests)
	if !strings.Contains(res.testid("login-error").Text(), "Too many") {
		t.Fatalf("message %q", res.testid("login-error").Text())
	}
	// …but the admin, from an address that has not failed, gets in after a pause.
	mu.Lock()
	slept = nil
	mu.Unlock()
	admin := from("198.51.100.20")
	admin.loginForm()
	if len(slept) == 0 || slept[0] != e.h.cfg.LoginDelay {
		t.Fatalf("pauses before the login %v, want the progressive delay first", slept)
	}

	// A spray from many addresses: each gets one guess while the account is hot, and the
	// delay doubles with every failure, up to LoginDelayMax.
	e.clock.Advance(2 * time.Minute)
	var delays []time.Duration
	for i := range 8 {
		b := from("192.0.2." + itoa(100+i))
		mu.Lock()
		slept = nil
		mu.Unlock()
		wantStatus(t, b.post("/admin/login", url.Values{"email": {testEmail}, "password": {"guess"}}), http.StatusUnauthorized)
		if i < 5 { // the account is not under attack yet
			continue
		}
		mu.Lock()
		delays = append(delays, slept[0])
		mu.Unlock()
		wantStatus(t, b.post("/admin/login", url.Values{"email": {testEmail}, "password": {"guess 2"}}), http.StatusTooManyRequests)
	}
	if delays[0] >= delays[1] || delays[1] >= delays[2] || delays[2] > e.h.cfg.LoginDelayMax {
		t.Fatalf("progressive delays %v", delays)
	}
	// The right password from a fresh address still works, and resets the account.
	from("198.51.100.99").loginForm()
	e.clock.Advance(accountWindow)
	attacker.loginForm()
}

func TestSessionExpiry(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name  string
		steps []time.Duration // activity after each step
		dead  bool
	}{
		{"active within idle", []time.Duration{20 * time.Minute, 20 * time.Minute, 20 * time.Minute}, false},
		{"idle timeout", []time.Duration{31 * time.Minute}, true},
		{"absolute timeout despite activity", func() []time.Duration {
			var s []time.Duration
			for range 25 {
				s = append(s, 29*time.Minute)
			}
			return s
		}(), true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			b.login()
			var res response
			for _, d := range tt.steps {
				e.clock.Advance(d)
				res = b.get("/admin/keys")
				if res.StatusCode != http.StatusOK {
					break
				}
			}
			if tt.dead {
				wantStatus(t, res, http.StatusSeeOther)
				if loc := res.Header.Get("Location"); !strings.HasPrefix(loc, "/admin/login?next=") {
					t.Fatalf("redirect to %q", loc)
				}
			} else {
				wantStatus(t, res, http.StatusOK)
			}
		})
	}
}

func TestHTMXExpiredSessionRedirects(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.login()
	e.clock.Advance(time.Hour)
	res := b.do("GET", "/admin/overview/live", nil, "HX-Request", "true")
	wantStatus(t, res, http.StatusUnauthorized)
	if !strings.HasPrefix(res.Header.Get("HX-Redirect"), "/admin/login") {
		t.Fatalf("HX-Redirect %q", res.Header.Get("HX-Redirect"))
	}
}

func TestTamperedCookie(t *testing.T) {
	t.Parallel()
	for _, value := range []string{"garbage", "", strings.Repeat("A", 43), "x'; DROP TABLE users;--"} {
		t.Run(value, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			b.login()
			b.cookie.Value = value
			res := b.get("/admin/")
			wantStatus(t, res, http.StatusSeeOther)
			if res.Header.Get("Location") != "/admin/login" {
				t.Fatalf("redirect to %q", res.Header.Get("Location"))
			}
		})
	}
}

func TestLogout(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.login()
	stolen := *b.cookie
	res := b.post("/admin/logout", nil)
	wantStatus(t, res, http.StatusSeeOther)
	if b.cookie != nil {
		t.Fatal("logout kept the cookie")
	}
	b.cookie = &stolen // the old cookie no longer works: the session row is gone
	wantStatus(t, b.get("/admin/"), http.StatusSeeOther)
}

func TestCrossOriginPostRefused(t *testing.T) {
	t.Parallel()
	tests := []struct {
		name string
		hdr  []string
	}{
		{"sec-fetch-site cross-site", []string{"Sec-Fetch-Site", "cross-site"}},
		{"foreign origin", []string{"Sec-Fetch-Site", "", "Origin", "https://evil.example"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			b.login()
			for _, path := range []string{"/admin/keys/1/revoke", "/admin/cache/clear", "/admin/logout", "/admin/login"} {
				res := b.post(path, url.Values{"ns": {"all"}, "confirm": {"yes"}}, tt.hdr...)
				wantStatus(t, res, http.StatusForbidden)
			}
			wantStatus(t, b.get("/admin/"), http.StatusOK) // still signed in
		})
	}
}

func TestSecurityHeaders(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	res := e.browser().get("/admin/login")
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'nonce-", "frame-ancestors 'none'", "base-uri 'none'", "form-action 'self'",
		"connect-src 'self' ws://console.example;"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, " ws: ") || strings.Contains(csp, " wss:;") {
		t.Errorf("CSP %q lets sockets reach any host", csp)
	}
	// A Host that is not a plain host[:port] is not written into the header.
	b := e.browser()
	b.host = "evil.example;script-src"
	if got := b.get("/admin/login").Header.Get("Content-Security-Policy"); !strings.Contains(got, "connect-src 'self';") {
		t.Errorf("CSP with a bad Host: %q", got)
	}
	nonce := strings.TrimSuffix(strings.SplitN(strings.SplitN(csp, "'nonce-", 2)[1], "'", 2)[0], "'")
	res.Doc.Find("script").Each(func(_ int, s *goquery.Selection) {
		if n, _ := s.Attr("nonce"); n != nonce {
			t.Errorf("script without the response's nonce: %v", n)
		}
	})
	other := e.browser().get("/admin/login").Header.Get("Content-Security-Policy")
	if other == csp {
		t.Error("the nonce is not fresh per response")
	}
	if res.Header.Get("X-Frame-Options") != "DENY" || res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("headers %v", res.Header)
	}
}

func TestCookieAttributes(t *testing.T) {
	t.Parallel()
	tests := []struct {
		host, name string
		secure     bool
	}{
		{"localhost:8000", cookieSecure, true},
		{"127.0.0.1:8000", cookieSecure, true},
		{"console.example", cookiePlain, false},
	}
	for _, tt := range tests {
		t.Run(tt.host, func(t *testing.T) {
			e := newEnv(t)
			b := e.browser()
			b.host = tt.host
			b.loginForm()
			c := b.cookie
			if c.Name != tt.name || c.Secure != tt.secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/" || c.Domain != "" {
				t.Fatalf("cookie %+v", c)
			}
			if len(c.Value) != 43 {
				t.Fatalf("token %q is not 32 random bytes", c.Value)
			}
			wantStatus(t, b.get("/admin/"), http.StatusOK)
		})
	}
}

func TestNextRedirectStaysInside(t *testing.T) {
	t.Parallel()
	for next, want := range map[string]string{
		"/admin/keys?status=active": "/admin/keys?status=active",
		"//evil.example/admin/":     "/admin/",
		"https://evil.example":      "/admin/",
		"/admin/\\evil":             "/admin/",
	} {
		t.Run(next, func(t *testing.T) {
			e := newEnv(t)
			res := e.browser().post("/admin/login", url.Values{"email": {testEmail}, "password": {testPassword}, "next": {next}})
			if got := res.Header.Get("Location"); got != want {
				t.Fatalf("Location %q, want %q", got, want)
			}
		})
	}
}

func TestLoginReplacesSession(t *testing.T) {
	t.Parallel()
	e := newEnv(t)
	b := e.browser()
	b.login()
	old := *b.cookie
	b.loginForm()
	if b.cookie.Value == old.Value {
		t.Fatal("login kept the old token")
	}
	wantStatus(t, b.get("/admin/"), http.StatusOK)
	b.cookie = &old
	wantStatus(t, b.get("/admin/"), http.StatusSeeOther)
}
