package web

import (
	"encoding/json"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// registeredRoutes parses the mux registrations ("METHOD /path") of web's non-test
// sources: routes.go and the files it delegates to (ops.go …).
func registeredRoutes(t *testing.T) []string {
	t.Helper()
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	re := regexp.MustCompile(`mux\.Handle(?:Func)?\("([A-Z]+) ([^"]+)"`)
	seen := map[string]bool{}
	var out []string
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			// {$} anchors are not part of the path; {name...} is documented as {name}.
			p := strings.ReplaceAll(strings.TrimSuffix(m[2], "{$}"), "...}", "}")
			if p == "" {
				p = "/"
			}
			if p != "/" && strings.HasSuffix(p, "/") {
				continue // subtree handlers (static assets, the admin console) are not REST operations
			}
			r := m[1] + " " + p
			if !seen[r] {
				seen[r] = true
				out = append(out, r)
			}
		}
	}
	slices.Sort(out)
	return out
}

// TestOpenAPIMatchesRoutes keeps the OpenAPI document in step with the routes: it
// names every registered route the document lacks and every documented one that no
// longer exists. Fix it by editing apiOps in openapi.go.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	routes := registeredRoutes(t)
	if len(routes) < 20 {
		t.Fatalf("found only %d routes: is the parser still matching routes.go?", len(routes))
	}
	documented := map[string]bool{}
	for _, op := range apiOps() {
		documented[op.method+" "+op.path] = true
	}
	var missing []string
	for _, r := range routes {
		if !documented[r] {
			missing = append(missing, r)
		}
		delete(documented, r)
	}
	var stale []string
	for r := range documented {
		stale = append(stale, r)
	}
	slices.Sort(stale)
	if len(missing) > 0 {
		t.Errorf("%d routes missing from the OpenAPI document (add them to apiOps in web/openapi.go):\n  %s",
			len(missing), strings.Join(missing, "\n  "))
	}
	if len(stale) > 0 {
		t.Errorf("%d documented operations have no route:\n  %s", len(stale), strings.Join(stale, "\n  "))
	}
}

func TestOpenAPIDocument(t *testing.T) {
	env := newEnv(t)
	r := env.do("GET", "/openapi.json", nil)
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	var doc struct {
		OpenAPI string                               `json:"openapi"`
		Info    map[string]any                       `json:"info"`
		Paths   map[string]map[string]map[string]any `json:"paths"`
	}
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	if doc.OpenAPI != "3.1.0" || doc.Info["version"] != "9.9.9-test" {
		t.Errorf("openapi %q info %v", doc.OpenAPI, doc.Info)
	}
	ids := map[string]bool{}
	for path, item := range doc.Paths {
		for method, op := range item {
			if op["responses"] == nil || op["summary"] == "" {
				t.Errorf("%s %s: no responses or summary", method, path)
			}
			id, _ := op["operationId"].(string)
			if ids[id] {
				t.Errorf("duplicate operationId %q", id)
			}
			ids[id] = true
			if strings.Contains(path, "{") && op["parameters"] == nil {
				t.Errorf("%s %s: path parameter not declared", method, path)
			}
		}
	}
	if _, ok := doc.Paths["/api/v1/errors/incidents/{id}"]["get"]; !ok {
		t.Error("incident route missing")
	}
}

func TestDocsPage(t *testing.T) {
	env := newEnv(t)
	r := env.do("GET", "/docs", nil)
	body := string(r.body)
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	for _, want := range []string{"/api/v1/errors/dashboard", "/api/v1/code/generate/stream", "DELETE", "/openapi.json"} {
		if !strings.Contains(body, want) {
			t.Errorf("/docs lacks %q", want)
		}
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "https://") {
		t.Error("/docs must be self-contained (no script, no external resources)")
	}
	if csp := r.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "default-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
}
