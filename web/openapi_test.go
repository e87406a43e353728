package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/santhosh-tekuri/jsonschema/v6"
)

// registeredRoutes parses the mux registrations ("METHOD /path") of web's non-test
// sources: routes.go and the files it delegates to.
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
// longer exists. Fix it by adding an entry to apiOps in web/openapi.go.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	routes := registeredRoutes(t)
	if len(routes) < 20 {
		t.Fatalf("found only %d routes: is the parser still matching routes.go?", len(routes))
	}
	documented := map[string]bool{}
	for _, op := range apiOps() {
		if documented[op.method+" "+op.path] {
			t.Errorf("%s %s is documented twice", op.method, op.path)
		}
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
		t.Errorf("%d routes missing from the OpenAPI document (add them to apiOps in web/openapi.go, with their request and response types and examples):\n  %s",
			len(missing), strings.Join(missing, "\n  "))
	}
	if len(stale) > 0 {
		t.Errorf("%d documented operations have no route:\n  %s", len(stale), strings.Join(stale, "\n  "))
	}
}

// servedDoc fetches /openapi.json from a test server and decodes it generically.
func servedDoc(t *testing.T) (map[string]any, []byte) {
	t.Helper()
	env := newEnv(t)
	r := env.do("GET", "/openapi.json", nil)
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("%d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	again := env.do("GET", "/openapi.json", nil)
	if !bytes.Equal(r.body, again.body) {
		t.Fatal("two fetches of /openapi.json differ")
	}
	var doc map[string]any
	if err := json.Unmarshal(r.body, &doc); err != nil {
		t.Fatal(err)
	}
	return doc, r.body
}

// operations yields every (path, method, operation) of doc.
func operations(doc map[string]any) map[string]map[string]any {
	out := map[string]map[string]any{}
	for path, item := range doc["paths"].(map[string]any) {
		for method, op := range item.(map[string]any) {
			out[strings.ToUpper(method)+" "+path] = op.(map[string]any)
		}
	}
	return out
}

func TestOpenAPIDocument(t *testing.T) {
	doc, _ := servedDoc(t)
	if doc["openapi"] != "3.1.0" || doc["info"].(map[string]any)["version"] != "9.9.9-test" {
		t.Errorf("openapi %v info %v", doc["openapi"], doc["info"])
	}
	if servers, _ := doc["servers"].([]any); len(servers) == 0 {
		t.Error("no servers")
	}
	ids := map[string]bool{}
	for name, op := range operations(doc) {
		id, _ := op["operationId"].(string)
		if id == "" || ids[id] {
			t.Errorf("%s: operationId %q missing or duplicate", name, id)
		}
		ids[id] = true
		if op["summary"] == "" {
			t.Errorf("%s: no summary", name)
		}
		sec, ok := op["security"].([]any)
		if !ok {
			t.Errorf("%s: no security (public operations say security: [])", name)
		}
		responses := op["responses"].(map[string]any)
		for status, resp := range responses {
			content, _ := resp.(map[string]any)["content"].(map[string]any)
			if strings.HasPrefix(status, "2") {
				if js, ok := content["application/json"].(map[string]any); ok {
					if s := js["schema"].(map[string]any); s["$ref"] == nil && s["items"] == nil && name != "GET /openapi.json" {
						t.Errorf("%s %s: success schema is not a named type: %v", name, status, s)
					}
					if js["example"] == nil {
						t.Errorf("%s %s: no example", name, status)
					}
				}
				continue
			}
			if status < "400" {
				continue // 101 Switching Protocols
			}
			schema, _ := content["application/json"].(map[string]any)["schema"].(map[string]any)
			want := "#/components/schemas/ErrorBody"
			if strings.HasPrefix(name, "POST /v1/") || strings.HasPrefix(name, "GET /v1/") {
				want = "#/components/schemas/OpenAIErrorEnvelope"
			}
			if schema["$ref"] != want {
				t.Errorf("%s %s: error schema %v, want %s", name, status, schema["$ref"], want)
			}
		}
		if len(sec) > 0 && responses["401"] == nil && !strings.HasPrefix(name, "GET /api/v1/realtime") {
			t.Errorf("%s needs a credential but documents no 401", name)
		}
	}
	ops := operations(doc)
	for _, name := range []string{"POST /api/v1/code/generate/stream", "POST /v1/chat/completions", "POST /v1/completions",
		"POST /api/v1/code/enhanced-stream-generate"} {
		content := ops[name]["responses"].(map[string]any)["200"].(map[string]any)["content"].(map[string]any)
		if content["text/event-stream"] == nil {
			t.Errorf("%s does not declare text/event-stream", name)
		}
	}
	for _, name := range []string{"GET /health", "POST /api/v1/users/login", "GET /livez", "POST /auth/refresh"} {
		if sec := ops[name]["security"].([]any); len(sec) != 0 {
			t.Errorf("%s is public, security %v", name, sec)
		}
	}
	if sec := ops["GET /api/v1/errors/dashboard"]["security"].([]any); len(sec) != 3 {
		t.Errorf("dashboard security %v", sec)
	}
}

// TestOpenAPIExamplesValidate compiles the served document with a JSON Schema 2020-12
// validator and checks every example against its schema: request bodies, success
// bodies, error bodies, parameters and each event of the SSE examples.
func TestOpenAPIExamplesValidate(t *testing.T) {
	doc, raw := servedDoc(t)
	c := jsonschema.NewCompiler()
	var unmarshalled any
	if err := json.Unmarshal(raw, &unmarshalled); err != nil {
		t.Fatal(err)
	}
	if err := c.AddResource("mem://openapi.json", unmarshalled); err != nil {
		t.Fatal(err)
	}
	checked := 0
	validate := func(where, pointer string, example any) {
		t.Helper()
		sch, err := c.Compile("mem://openapi.json#" + pointer)
		if err != nil {
			t.Fatalf("%s: compile %s: %v", where, pointer, err)
		}
		// Round-trip so numbers are what a client decodes.
		b, _ := json.Marshal(example)
		v, err := jsonschema.UnmarshalJSON(bytes.NewReader(b))
		if err != nil {
			t.Fatal(err)
		}
		if err := sch.Validate(v); err != nil {
			t.Errorf("%s: example does not validate: %v", where, err)
		}
		checked++
	}
	esc := func(s string) string { return strings.NewReplacer("~", "~0", "/", "~1").Replace(s) }
	for path, item := range doc["paths"].(map[string]any) {
		for method, opAny := range item.(map[string]any) {
			op := opAny.(map[string]any)
			base := "/paths/" + esc(path) + "/" + method
			name := strings.ToUpper(method) + " " + path
			if rb, ok := op["requestBody"].(map[string]any); ok {
				mt := rb["content"].(map[string]any)["application/json"].(map[string]any)
				if mt["example"] == nil {
					t.Errorf("%s: request body without example", name)
				} else {
					validate(name+" request", base+"/requestBody/content/application~1json/schema", mt["example"])
				}
			}
			for i, p := range asList(op["parameters"]) {
				if ex := p.(map[string]any)["example"]; ex != nil {
					validate(fmt.Sprintf("%s parameter %d", name, i), fmt.Sprintf("%s/parameters/%d/schema", base, i), ex)
				}
			}
			for status, r := range op["responses"].(map[string]any) {
				content, _ := r.(map[string]any)["content"].(map[string]any)
				for ct, mtAny := range content {
					mt := mtAny.(map[string]any)
					ptr := base + "/responses/" + status + "/content/" + esc(ct)
					if mt["example"] == nil {
						t.Errorf("%s %s %s: no example", name, status, ct)
						continue
					}
					validate(name+" "+status+" "+ct, ptr+"/schema", mt["example"])
					if ct != "text/event-stream" {
						continue
					}
					events := 0
					for _, line := range strings.Split(mt["example"].(string), "\n") {
						data, ok := strings.CutPrefix(line, "data: ")
						if !ok || data == "[DONE]" {
							continue
						}
						var ev any
						if err := json.Unmarshal([]byte(data), &ev); err != nil {
							t.Errorf("%s: SSE example line is not JSON: %s", name, line)
							continue
						}
						validate(name+" event", ptr+"/schema/contentSchema", ev)
						events++
					}
					if events == 0 {
						t.Errorf("%s: SSE example has no event", name)
					}
				}
			}
		}
	}
	if checked < 150 {
		t.Errorf("validated only %d examples", checked)
	}
	t.Logf("validated %d examples", checked)
}

func asList(v any) []any {
	l, _ := v.([]any)
	return l
}

// TestOpenAPIBuiltOnce: the document is encoded once per server; later requests copy
// the same bytes.
func TestOpenAPIBuiltOnce(t *testing.T) {
	env := newEnv(t)
	a, err := env.srv.openAPIJSON()
	if err != nil {
		t.Fatal(err)
	}
	env.do("GET", "/openapi.json", nil)
	b, _ := env.srv.openAPIJSON()
	if &a[0] != &b[0] {
		t.Error("the document was built again")
	}
}

func TestDocsPage(t *testing.T) {
	env := newEnv(t)
	r := env.do("GET", "/docs", nil)
	body := string(r.body)
	if r.StatusCode != 200 || !strings.HasPrefix(r.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("%d %s", r.StatusCode, r.Header.Get("Content-Type"))
	}
	for _, want := range []string{`data-spec="/openapi.json"`, "/static/js/swagger-ui-bundle.", "/static/js/docs.", "/static/css/swagger-ui."} {
		if !strings.Contains(body, want) {
			t.Errorf("/docs lacks %q", want)
		}
	}
	if strings.Contains(body, "https://") || regexp.MustCompile(`<script>|<style|style="`).MatchString(body) {
		t.Error("/docs must load nothing external and have no inline script or style")
	}
	csp := r.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "script-src 'self'", "connect-src 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("CSP %q lacks %s", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") {
		t.Errorf("CSP %q allows unsafe sources", csp)
	}
}
