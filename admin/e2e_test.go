package admin_test

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"

	"github.com/hapa-project/hapa/admin"
	"github.com/hapa-project/hapa/static"
	"github.com/hapa-project/hapa/store"
)

// chromiumPath finds the browser: $HAPA_CHROMIUM or /usr/bin/chromium. Without one the
// test is skipped, except in CI (CI set), where a missing browser is a failure.
func chromiumPath(t *testing.T) string {
	t.Helper()
	p := os.Getenv("HAPA_CHROMIUM")
	if p == "" {
		p = "/usr/bin/chromium"
	}
	if _, err := os.Stat(p); err != nil {
		if ci := os.Getenv("CI"); ci != "" && ci != "false" {
			t.Fatalf("CI needs Chromium for the admin console test: %v (set HAPA_CHROMIUM)", err)
		}
		t.Skipf("no Chromium at %s (set HAPA_CHROMIUM); skipping the browser test", p)
	}
	return p
}

// tab is one headless Chromium tab on the test server, with helpers that fail the
// test on error and a record of console errors (CSP violations, exceptions).
type tab struct {
	t    *testing.T
	ctx  context.Context
	base string

	mu       sync.Mutex
	problems []string
}

func newTab(t *testing.T, base string) *tab {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(chromiumPath(t)),
		chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.UserDataDir(t.TempDir()),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.WindowSize(1280, 900),
	)
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	tb := &tab{t: t, ctx: ctx, base: base}
	if err := chromedp.Do(ctx); err != nil { // start the browser
		t.Fatalf("start Chromium: %v", err)
	}
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			// A failed login answers 401 on purpose; Chromium logs every non-2xx load.
			if strings.HasPrefix(m.Text, "Failed to load resource: the server responded with a status of 401") {
				continue
			}
			if m.IsException() || m.Type == chromedp.ConsoleError ||
				strings.Contains(m.Text, "Content Security Policy") {
				tb.mu.Lock()
				tb.problems = append(tb.problems, string(m.Type)+": "+m.Text+" ("+m.URL+")")
				tb.mu.Unlock()
			}
		}
	}()
	return tb
}

// do runs steps with a deadline.
func (tb *tab) do(what string, steps ...chromedp.Action[chromedp.Void]) {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
}

func run[T any](tb *tab, what string, a chromedp.Action[T]) T {
	tb.t.Helper()
	ctx, cancel := context.WithTimeout(tb.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		tb.t.Fatalf("%s: %v", what, err)
	}
	return v
}

func (tb *tab) open(path, testid string) {
	tb.t.Helper()
	tb.do("open "+path, chromedp.Navigate(tb.base+path), chromedp.WaitVisible(byID(testid)))
}

func (tb *tab) text(testid string) string {
	tb.t.Helper()
	return strings.TrimSpace(run(tb, "text of "+testid, chromedp.TextContent(byID(testid))))
}

// waitJS polls a JavaScript condition.
func (tb *tab) waitJS(what, cond string) {
	tb.t.Helper()
	run(tb, what, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(25*time.Second)))
}

// shot saves a full-page screenshot as docs/screenshots/<name>.png when
// HAPA_SCREENSHOTS=1, so ordinary runs leave the committed images alone.
func (tb *tab) shot(name string) {
	tb.t.Helper()
	if os.Getenv("HAPA_SCREENSHOTS") != "1" {
		return
	}
	buf := run(tb, "screenshot "+name, chromedp.FullScreenshot(100))
	if err := os.WriteFile(filepath.Join("..", "docs", "screenshots", name+".png"), buf, 0o644); err != nil {
		tb.t.Fatal(err)
	}
}

func (tb *tab) checkConsole() {
	tb.t.Helper()
	tb.mu.Lock()
	defer tb.mu.Unlock()
	for _, p := range tb.problems {
		tb.t.Errorf("browser console: %s", p)
	}
	tb.problems = nil
}

func byID(testid string) chromedp.CSS { return chromedp.CSS(`[data-testid="` + testid + `"]`) }

func hasRealtimeClient() bool {
	_, err := fs.Stat(static.FS(), "js/hapa-realtime.js")
	return err == nil
}

func TestConsoleInChromium(t *testing.T) {
	srv := newE2EServer(t)
	seed(t, srv)
	// localhost, not 127.0.0.1: the __Host- cookie over plain HTTP is what is tested.
	tb := newTab(t, strings.Replace(srv.URL, "127.0.0.1", "localhost", 1))

	t.Run("login", func(t *testing.T) {
		tb.t = t
		tb.open("/admin/keys", "login-form")
		tb.shot("login")
		tb.do("wrong password",
			chromedp.SendKeys(byID("login-email"), e2eEmail),
			chromedp.SendKeys(byID("login-password"), "not the password"),
			chromedp.Click(byID("login-submit")),
			chromedp.WaitVisible(byID("login-error")))
		tb.do("sign in",
			chromedp.SendKeys(byID("login-password"), e2ePassword),
			chromedp.Click(byID("login-submit")),
			chromedp.WaitVisible(byID("keys-filter")))
		if got := tb.text("whoami"); got != e2eEmail {
			t.Fatalf("whoami %q", got)
		}
		tb.waitJS("times localised", `[...document.querySelectorAll("time")].every(t => t.dataset.local === "1")`)
		if run(tb, "cookie", chromedp.Evaluate[bool](`document.cookie.includes("hapa_admin")`)) {
			t.Fatal("the session cookie is readable from JavaScript")
		}
		// Chromium accepts the __Host- cookie (Secure) from http://localhost.
		res, err := chromedp.Call(tb.ctx, network.GetCookies, network.GetCookiesParams{})
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, c := range res.Cookies {
			names = append(names, c.Name)
			if c.Name == "__Host-hapa_admin" && (!c.Secure || !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict) {
				t.Fatalf("cookie attributes %+v", c)
			}
		}
		if !slices.Contains(names, "__Host-hapa_admin") {
			t.Fatalf("cookies %v, want __Host-hapa_admin", names)
		}
	})

	var plaintext string
	t.Run("create key shows it once", func(t *testing.T) {
		tb.t = t
		tb.open("/admin/keys/new", "key-form")
		tb.do("create",
			chromedp.SendKeys(byID("key-owner"), "dev@example.com"),
			chromedp.SendKeys(byID("key-name"), "e2e laptop"),
			chromedp.Click(byID("key-create")),
			chromedp.WaitVisible(byID("key-plaintext")),
			chromedp.WaitVisible(byID("key-copy")))
		plaintext = tb.text("key-plaintext")
		if !strings.HasPrefix(plaintext, store.KeyPrefix) {
			t.Fatalf("plaintext %q", plaintext)
		}
		tb.shot("key-created")
		tb.open("/admin/keys", "keys-table")
		if run(tb, "full key on the list", chromedp.Evaluate[bool](`document.body.innerHTML.includes("`+plaintext+`")`)) {
			t.Fatal("the list shows the full key")
		}
		tb.shot("keys")
	})

	t.Run("revoke key", func(t *testing.T) {
		tb.t = t
		tb.open("/admin/keys?q=e2e", "key-revoke")
		tb.do("revoke", chromedp.Click(byID("key-revoke")), chromedp.WaitVisible(byID("flash")))
		tb.open("/admin/keys?q=e2e", "key-status")
		if got := tb.text("key-status"); got != "revoked" {
			t.Fatalf("status %q after revoke", got)
		}
	})

	t.Run("playground streams a generation", func(t *testing.T) {
		tb.t = t
		if !hasRealtimeClient() {
			t.Skip("static/js/hapa-realtime.js (the realtime engineer's client) is not there yet")
		}
		tb.open("/admin/playground", "pg-form")
		tb.waitJS("connected", `!document.querySelector("#pg-send").disabled`)
		tb.do("send", chromedp.Click(byID("pg-send")))
		tb.waitJS("stream done", `document.querySelector("#pg-status").textContent.startsWith("Done")`)
		if out := tb.text("pg-output"); out == "" {
			t.Fatal("no streamed text")
		}
		if meta := tb.text("pg-meta"); !strings.Contains(meta, "finish: ") {
			t.Fatalf("meta %q", meta)
		}
		tb.shot("playground")

		// A second, different prompt (no cache hit), cancelled after its first tokens.
		tb.do("cancel",
			chromedp.SetValue(byID("pg-prompt"), "Explain Python closures with three examples."),
			chromedp.Click(byID("pg-send")))
		tb.waitJS("first tokens", `document.querySelector("#pg-output").textContent.length > 0`)
		tb.do("click cancel", chromedp.Click(byID("pg-cancel")))
		tb.waitJS("cancelled", `document.querySelector("#pg-status").textContent.startsWith("Cancelled")`)
		// The cancelled stream is charged what it delivered: its prompt and the tokens
		// shown, not "0 in / 0 out".
		meta := tb.text("pg-meta")
		var in, out int
		_, tokens, _ := strings.Cut(meta, "tokens ")
		if _, err := fmt.Sscanf(tokens, "%d in / %d out", &in, &out); err != nil ||
			!strings.Contains(meta, "finish: cancelled") || in == 0 || out == 0 {
			t.Fatalf("meta %q after cancel (%v)", meta, err)
		}
	})

	t.Run("clear cache", func(t *testing.T) {
		tb.t = t
		tb.open("/admin/cache", "cache-table")
		if got := tb.text("cache-hits-head"); !strings.Contains(got, "this replica") {
			t.Errorf("hits header %q", got)
		}
		if got, want := tb.text("replica-id"), admin.DefaultReplica(); got != want {
			t.Errorf("cache page names replica %q, want %q", got, want)
		}
		tb.shot("cache")
		tb.do("confirm step", chromedp.Click(byID("cache-clear-all")), chromedp.WaitVisible(byID("cache-confirm")))
		tb.shot("cache-confirm")
		tb.do("clear", chromedp.Click(byID("cache-confirm-yes")), chromedp.WaitVisible(byID("flash")))
		if srv.Cache.Len() != 0 {
			t.Fatalf("%d cache entries left", srv.Cache.Len())
		}
	})

	t.Run("other pages", func(t *testing.T) {
		tb.t = t
		tb.open("/admin/", "overview-live")
		// htmx (under the CSP) replaces the live section within a poll interval.
		tb.do("mark", chromedp.Evaluate[chromedp.Void](`document.querySelector("#live").dataset.stale = "1"`))
		tb.waitJS("live refresh", `(() => { const l = document.querySelector("#live"); return !!l && !l.dataset.stale && l.querySelector("time").dataset.local === "1"; })()`)
		// Sockets and streams are this replica's own, and say so (after a refresh too).
		tb.do("replica labels visible", chromedp.WaitVisible(byID("stat-sockets-scope")), chromedp.WaitVisible(byID("stat-streams-scope")),
			chromedp.WaitVisible(byID("replica-id")))
		for _, id := range []string{"stat-sockets-scope", "stat-streams-scope"} {
			if got := tb.text(id); got != "this replica" {
				t.Errorf("%s = %q", id, got)
			}
		}
		if got, want := tb.text("replica-id"), admin.DefaultReplica(); got != want {
			t.Errorf("overview names replica %q, want %q", got, want)
		}
		if note := tb.text("replica-note"); !strings.Contains(note, "this replica's own") {
			t.Errorf("replica note %q", note)
		}
		tb.shot("overview")
		tb.open("/admin/errors?period=24h", "incidents-table")
		// The playground's cancel is a cancel, not an internal error.
		if run(tb, "E5004 row", chromedp.Evaluate[bool](`!!document.querySelector('[data-testid="code-row"][data-code="E5004"]')`)) {
			t.Error("a client cancel is listed as E5004")
		}
		if note := tb.text("errors-cancelled"); hasRealtimeClient() && strings.HasPrefix(note, "Cancelled by the client: 0 ") {
			t.Errorf("the playground's cancel is not counted: %q", note)
		}
		tb.shot("errors")
		tb.do("incident", chromedp.Click(chromedp.CSS(`[data-testid="incident-row"] a`)), chromedp.WaitVisible(byID("incident-detail")))
		tb.shot("incident")
		tb.open("/admin/users", "users-table")
		tb.shot("users")
		tb.do("user", chromedp.Click(chromedp.CSS(`a[data-testid="user-email"]:not([href="/admin/users/1"])`)), chromedp.WaitVisible(byID("user-profile")))
		tb.shot("user")
		tb.open("/admin/upstreams", "upstreams-table")
		tb.shot("upstreams")
		// A phone-sized viewport: the navigation wraps and wide tables scroll inside
		// their frame instead of widening the page.
		tb.do("phone", chromedp.EmulateViewport(390, 844))
		tb.open("/admin/keys", "keys-filter")
		if run(tb, "page width", chromedp.Evaluate[bool](`document.documentElement.scrollWidth > window.innerWidth`)) {
			t.Error("the key list is wider than a phone screen")
		}
		tb.shot("keys-phone")
		tb.do("desktop", chromedp.EmulateViewport(1280, 900))
	})

	t.Run("logout", func(t *testing.T) {
		tb.t = t
		tb.open("/admin/", "logout")
		tb.do("logout", chromedp.Click(byID("logout")), chromedp.WaitVisible(byID("login-form")))
		tb.open("/admin/keys", "login-form")
	})
	tb.t = t
	tb.checkConsole()
}
