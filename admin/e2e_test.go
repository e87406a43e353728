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

// waitNav polls a JavaScript condition across a navigation: evaluation errors while
// the old document goes away are retried until the condition holds or 25 s pass.
func (tb *tab) waitNav(what, cond string) {
	tb.t.Helper()
	deadline := time.Now().Add(25 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(tb.ctx, 2*time.Second)
		ok, err := chromedp.Run(ctx, chromedp.Evaluate[bool](cond))
		cancel()
		if err == nil && ok {
			return
		}
		time.Sleep(50 * time.Millisecond)
	}
	loc, _ := chromedp.Run(tb.ctx, chromedp.Evaluate[string](`location.href`))
	tb.t.Fatalf("%s: %s never held (at %s)", what, cond, loc)
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

// shotElement saves a screenshot of the element sel as docs/screenshots/<name>.png
// when HAPA_SCREENSHOTS=1.
func (tb *tab) shotElement(name, sel string) {
	tb.t.Helper()
	if os.Getenv("HAPA_SCREENSHOTS") != "1" {
		return
	}
	buf := run(tb, "screenshot "+name, chromedp.Screenshot(chromedp.CSS(sel)))
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
		// Reloading the key's page neither shows the key again nor mints another.
		tb.do("reload", chromedp.Reload(), chromedp.WaitVisible(byID("key-title")))
		if run(tb, "plaintext after reload", chromedp.Evaluate[bool](`document.body.innerHTML.includes("`+plaintext+`")`)) {
			t.Fatal("a reload shows the key again")
		}
		tb.open("/admin/keys", "keys-table")
		if run(tb, "full key on the list", chromedp.Evaluate[bool](`document.body.innerHTML.includes("`+plaintext+`")`)) {
			t.Fatal("the list shows the full key")
		}
		tb.shot("keys")
	})

	t.Run("edit key", func(t *testing.T) {
		tb.t = t
		tb.open("/admin/keys?q=e2e", "key-link")
		tb.do("open key", chromedp.Click(byID("key-link")), chromedp.WaitVisible(byID("key-edit-form")))
		tb.do("edit",
			chromedp.SetValue(byID("key-edit-name"), "e2e laptop (renamed)"),
			chromedp.SetValue(byID("key-edit-tpd"), "250000"),
			chromedp.Click(byID("key-edit-save")),
			chromedp.WaitVisible(byID("flash")))
		if got := tb.text("audit-row-action"); got != "key.edit" {
			t.Fatalf("key history starts with %q", got)
		}
		tb.shot("key")
	})

	t.Run("revoke key", func(t *testing.T) {
		tb.t = t
		tb.open("/admin/keys?q=e2e", "key-revoke")
		tb.do("ask", chromedp.Click(byID("key-revoke")), chromedp.WaitVisible(byID("key-confirm")))
		tb.shot("key-revoke-confirm")
		tb.do("revoke", chromedp.Click(byID("key-confirm-yes")), chromedp.WaitVisible(byID("flash")))
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
		tb.do("acknowledge", chromedp.SendKeys(byID("incident-note"), "vllm-1 is restarting; watching it"),
			chromedp.Click(byID("incident-acknowledge")))
		tb.waitNav("acknowledged", `document.readyState === "complete" && document.querySelector('[data-testid="incident-state"]')?.textContent.trim() === "acknowledged"`)
		tb.shot("incident")
		tb.do("resolve", chromedp.Click(byID("incident-resolve")))
		tb.waitNav("resolved", `document.readyState === "complete" && document.querySelector('[data-testid="incident-state"]')?.textContent.trim() === "resolved"`)
		tb.do("the incident's request", chromedp.Click(byID("request-link")), chromedp.WaitVisible(byID("request-detail")))
		if got := tb.text("request-upstream"); !strings.Contains(got, "vllm-1") {
			t.Errorf("request replica %q", got)
		}
		tb.shot("request")
		tb.open("/admin/requests", "requests-table")
		tb.do("filter 5xx", chromedp.SetValue(byID("requests-class"), "5xx"), chromedp.Click(byID("requests-apply")))
		tb.waitNav("filtered", `location.search.includes("class=5xx") && document.readyState === "complete" && !!document.querySelector('[data-testid="requests-table"]')`)
		if run(tb, "only 5xx", chromedp.Evaluate[bool](`[...document.querySelectorAll('[data-testid="request-row"]')].some(r => r.dataset.status !== "504")`)) {
			t.Error("the 5xx filter shows other statuses")
		}
		tb.shot("requests")
		tb.do("all statuses", chromedp.SetValue(byID("requests-class"), ""), chromedp.Click(byID("requests-apply")))
		tb.waitNav("unfiltered", `location.search.includes("request_id=") && !location.search.includes("class=5xx") && document.readyState === "complete" && !!document.querySelector('[data-testid="requests-table"]')`)
		tb.open("/admin/users", "users-table")
		tb.shot("users")
		tb.do("search", chromedp.SetValue(byID("users-query"), "ada"), chromedp.Click(byID("users-apply")))
		tb.waitNav("searched", `location.search.includes("q=ada") && document.readyState === "complete" && document.querySelectorAll('[data-testid="user-row"]').length === 1`)
		tb.do("user", chromedp.Click(chromedp.CSS(`a[data-testid="user-email"]`)), chromedp.WaitVisible(byID("user-profile")))
		if got := tb.text("user-detail-name"); got != "Ada Developer" {
			t.Errorf("user name %q", got)
		}
		tb.shot("user")
		tb.do("ask to disable", chromedp.Click(byID("user-disable")), chromedp.WaitVisible(byID("user-confirm")))
		tb.shot("user-disable-confirm")
		tb.do("disable", chromedp.Click(byID("user-confirm-yes")))
		tb.waitNav("disabled", `document.readyState === "complete" && document.querySelector('[data-testid="user-detail-status"]')?.textContent.trim() === "disabled"`)
		tb.do("enable", chromedp.Click(byID("user-enable")))
		tb.waitNav("enabled", `document.readyState === "complete" && document.querySelector('[data-testid="user-detail-status"]')?.textContent.trim() === "active"`)
		tb.open("/admin/upstreams", "upstreams-table")
		// Draining the only replica asks first, then takes it out; enabling brings it back.
		tb.do("drain", chromedp.Click(byID("replica-draining")), chromedp.WaitVisible(byID("upstream-confirm")))
		tb.do("confirm drain", chromedp.Click(byID("upstream-confirm-yes")))
		tb.waitNav("drained", `document.readyState === "complete" && document.querySelector('[data-testid="replica-admin"]')?.textContent.trim() === "draining"`)
		tb.shot("upstreams")
		tb.do("enable", chromedp.Click(byID("replica-active")))
		tb.waitNav("enabled", `document.readyState === "complete" && document.querySelector('[data-testid="replica-admin"]')?.textContent.trim() === "active"`)
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

	t.Run("usage", func(t *testing.T) {
		tb.t = t
		tb.open("/admin/usage?period=24h", "usage-tiles")
		for _, id := range []string{"usage-chart-requests", "usage-chart-tokens", "usage-chart-latency"} {
			if !run(tb, "chart "+id, chromedp.Evaluate[bool](`!!document.querySelector('[data-testid="`+id+`"] svg')`)) {
				t.Errorf("no chart %s", id)
			}
		}
		if n := run(tb, "series", chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="usage-chart-requests"] .legend li').length`)); n != 4 {
			t.Errorf("requests chart has %d series", n)
		}
		tb.shot("usage")
		// The acceptance of inline completions: a rate in the tile and a line over time.
		rate := run(tb, "acceptance rate", chromedp.Evaluate[string](`document.querySelector('[data-testid="usage-completions-rate"] .value').firstChild.textContent`))
		if !strings.HasSuffix(rate, "%") || rate == "0.0 %" {
			t.Errorf("acceptance rate tile %q", rate)
		}
		if !run(tb, "acceptance chart", chromedp.Evaluate[bool](`!!document.querySelector('[data-testid="usage-chart-acceptance"] svg polyline')`)) {
			t.Error("no acceptance-rate line")
		}
		if n := run(tb, "languages", chromedp.Evaluate[int](`document.querySelectorAll('[data-testid="usage-acceptance-language-row"]').length`)); n != 4 {
			t.Errorf("%d languages in the acceptance table, want 4", n)
		}
		tb.do("scroll to completions", chromedp.ScrollIntoView(byID("usage-completions")))
		tb.shotElement("usage-acceptance", `[data-testid="usage-completions"]`)
		// A top key's link narrows the page to that key.
		tb.do("one key", chromedp.Click(chromedp.CSS(`[data-testid="usage-top-keys-row"] a[data-testid="usage-group-link"]`)))
		tb.waitNav("key filter", `location.search.includes("key=") && document.readyState === "complete" && !!document.querySelector('[data-testid="usage-key-label"]')`)
		tb.shot("usage-key")
	})

	t.Run("audit log", func(t *testing.T) {
		tb.t = t
		tb.open("/admin/audit", "audit-table")
		for _, action := range []string{"login", "key.create", "key.edit", "key.revoke", "cache.clear"} {
			if !run(tb, "audit "+action, chromedp.Evaluate[bool](`!!document.querySelector('[data-testid="audit-row"][data-action="`+action+`"]')`)) {
				t.Errorf("no %s in the audit log", action)
			}
		}
		tb.shot("audit")
		tb.do("filter", chromedp.SetValue(byID("audit-action"), "key."), chromedp.Submit(byID("audit-filter")))
		tb.waitNav("filtered", `location.search.includes("action=key.") && document.readyState === "complete" && !!document.querySelector('[data-testid="audit-table"]')`)
		if run(tb, "only key actions", chromedp.Evaluate[bool](`[...document.querySelectorAll('[data-testid="audit-row"]')].some(r => !r.dataset.action.startsWith("key."))`)) {
			t.Error("the key filter shows other actions")
		}
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
