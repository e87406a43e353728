package web

import (
	"context"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/hapa-project/hapa/static"
)

// TestDocsInBrowser opens /docs in headless Chromium (HAPA_CHROMIUM, as the admin
// console's test): Swagger UI renders every operation from /openapi.json under the
// page's CSP with no console error, and "Try it out" calls the server, anonymously and
// with an API key entered through the page's authorisation.
func TestDocsInBrowser(t *testing.T) {
	path := os.Getenv("HAPA_CHROMIUM")
	if path == "" {
		path = "/usr/bin/chromium"
	}
	if _, err := os.Stat(path); err != nil {
		if ci := os.Getenv("CI"); ci != "" && ci != "false" {
			t.Fatalf("CI needs Chromium for the /docs test: %v (set HAPA_CHROMIUM)", err)
		}
		t.Skipf("no Chromium at %s (set HAPA_CHROMIUM)", path)
	}
	env := newEnv(t, func(_ *Config, d *Deps) { d.Static = static.Handler() })
	key, _ := env.newKey(nil, nil, ScopeCodeGeneration)

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(path), chromedp.NoSandbox,
		chromedp.DisableGPU, chromedp.UserDataDir(t.TempDir()), chromedp.WindowSize(1280, 900),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true))
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(alloc)
	defer cancel()
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	var mu sync.Mutex
	var problems []string
	go func() {
		for m, err := range chromedp.Console(ctx) {
			if err != nil {
				return
			}
			if m.IsException() || m.Type == chromedp.ConsoleError || strings.Contains(m.Text, "Content Security Policy") {
				mu.Lock()
				problems = append(problems, string(m.Type)+": "+m.Text)
				mu.Unlock()
			}
		}
	}()
	step := func(what string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 40*time.Second)
		defer cancel()
		if err := chromedp.Do(c, actions...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	poll := func(what, cond string) {
		t.Helper()
		c, cancel := context.WithTimeout(ctx, 40*time.Second)
		defer cancel()
		if _, err := chromedp.Run(c, chromedp.Poll[bool](cond, chromedp.WithPollingTimeout(35*time.Second))); err != nil {
			if txt, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('.opblock.is-open') || document.body).innerText.slice(0, 3000)`)); err == nil {
				t.Logf("page: %s", txt)
			}
			t.Fatalf("%s: %v", what, err)
		}
	}

	step("open /docs", chromedp.Navigate(env.ts.URL+"/docs"), chromedp.WaitVisible(chromedp.CSS(".opblock")))
	poll("every operation rendered", `document.querySelectorAll('.opblock').length >= `+strconv.Itoa(len(apiOps())))

	// Try it out, anonymously: GET /livez.
	tryIt := func(op string) {
		t.Helper()
		// The page enables "Try it out" for every operation (static/js/docs.js).
		for _, sel := range []string{".opblock-summary-control", ".execute"} {
			q := "document.querySelector('" + op + " " + sel + "')"
			poll("click "+op+" "+sel, `(() => { const b = `+q+`; if (!b) return false; b.click(); return true; })()`)
		}
	}
	tryIt("#operations-health-get_livez")
	answered := func(op, status, body string) string {
		return `(() => { const l = document.querySelector('` + op + ` .live-responses-table'); if (!l) return false;
			const t = l.innerText; return /(^|\n)` + status + `\s/.test(t) && t.includes('` + body + `'); })()`
	}
	poll("/livez answered 200 in the page", answered("#operations-health-get_livez", "200", `"status": "alive"`))

	// With the API key the page was given (the Authorize dialog's API), a protected route.
	c, cancelEval := context.WithTimeout(ctx, 10*time.Second)
	if _, err := chromedp.Run(c, chromedp.Evaluate[any](`window.ui.preauthorizeApiKey('ApiKey', '`+key+`'); true`)); err != nil {
		t.Fatalf("authorize: %v", err)
	}
	cancelEval()
	op := "#operations-code-get_api_v1_code_backend_status"
	tryIt(op)
	poll("backend status answered 200 with the key", answered(op, "200", `"backend_type": "vllm"`))

	mu.Lock()
	defer mu.Unlock()
	for _, p := range problems {
		t.Errorf("browser console: %s", p)
	}
}
