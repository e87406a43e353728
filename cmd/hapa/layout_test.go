package main

import (
	gobuild "go/build"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// allowedImports is the dependency direction of docs/architecture.md: the HAPA
// packages each package may import (production code; tests may import more).
// cmd/hapa, the wiring, may import everything and is not listed.
var allowedImports = map[string][]string{
	"auth":                 {"realtime", "store"},
	"realtime":             {"realtime/codectx", "store", "vllm"},
	"realtime/codectx":     {"vllm"},
	"realtime/limits":      {"realtime", "store"},
	"realtime/ws":          {"auth", "realtime", "store"},
	"realtime/ws/wsclient": {},
	"web":                  {"auth", "realtime", "realtime/limits", "store", "static"},
	"admin":                {"auth", "realtime", "static", "store", "vllm"},
	"store":                {},
	"store/storetest":      {"store"},
	"vllm":                 {},
	"vllm/sim":             {},
	"static":               {},
	"cmd/hapa/bench":       {"realtime/codectx", "realtime/ws/wsclient", "store", "vllm", "vllm/sim"},
}

// TestDependencyDirection keeps the layout: every package's HAPA imports are among
// its allowed ones, every package is listed, and the engine holds no WebSocket code.
func TestDependencyDirection(t *testing.T) {
	const module = "github.com/hapa-project/hapa/"
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || !d.IsDir() {
			return err
		}
		if name := d.Name(); path != root && (strings.HasPrefix(name, ".") || name == "testdata" || name == "node_modules") {
			return filepath.SkipDir
		}
		if _, err := os.Stat(filepath.Join(path, "go.mod")); err == nil && path != root {
			return filepath.SkipDir // a module of its own (tools/)
		}
		pkg, err := gobuild.ImportDir(path, 0)
		if err != nil || len(pkg.GoFiles) == 0 {
			return nil // no Go files here, or tests only (deploy/)
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		if rel == "cmd/hapa" {
			return nil
		}
		seen[rel] = true
		allowed, ok := allowedImports[rel]
		if !ok {
			t.Errorf("package %s is not in allowedImports: add it with its arrows (and to docs/architecture.md)", rel)
			return nil
		}
		for _, imp := range pkg.Imports {
			if own, ok := strings.CutPrefix(imp, module); ok && !slices.Contains(allowed, own) {
				t.Errorf("%s imports %s: not an arrow of docs/architecture.md", rel, own)
			}
			if rel == "realtime" && (strings.Contains(imp, "websocket") || strings.HasPrefix(imp, "golang.org/x/sys")) {
				t.Errorf("the engine imports %s: socket code belongs in realtime/ws", imp)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	for p := range allowedImports {
		if !seen[p] {
			t.Errorf("allowedImports lists %s, which has no Go package", p)
		}
	}
}
