package codectx

import (
	"slices"
	"testing"

	"github.com/hapa-project/hapa/vllm"
)

func TestLookup(t *testing.T) {
	for in, want := range map[string]string{
		"python": "python", " Py ": "python", "typescriptreact": "typescript", "C++": "cpp", "c#": "csharp",
		"shellscript": "shell", "golang": "go", "objective-cpp": "objective-c",
	} {
		if l, ok := Lookup(in); !ok || l.Name != want {
			t.Errorf("Lookup(%q) = %q, %v; want %q", in, l.Name, ok, want)
		}
	}
	for _, in := range []string{"", "klingon", "json", "brainfuck"} {
		if l, ok := Lookup(in); ok {
			t.Errorf("Lookup(%q) = %q, want none", in, l.Name)
		}
	}
}

func TestDetect(t *testing.T) {
	for in, want := range map[string]string{
		"app/models.py": "python", `C:\src\App.TSX`: "typescript", "cmd/hapa/main.go": "go", "src/lib.rs": "rust",
		"Makefile": "makefile", "build/Dockerfile": "dockerfile", "include/x.hpp": "cpp", "a/b/c.h": "c",
		"deploy/values.yaml": "yaml", "web/index.html": "html", "styles/site.css": "css",
	} {
		if l, ok := Detect(in); !ok || l.Name != want {
			t.Errorf("Detect(%q) = %q, %v; want %q", in, l.Name, ok, want)
		}
	}
	for _, in := range []string{"", "README", "notes.txt", "data.json", "x.", ".py/dir/file"} {
		if l, ok := Detect(in); ok {
			t.Errorf("Detect(%q) = %q, want none", in, l.Name)
		}
	}
}

// TestLanguageTable keeps the table sound: unique names, aliases and extensions (a
// duplicate would silently win in the index), a comment for every language, Python
// first (the default).
func TestLanguageTable(t *testing.T) {
	names, exts := map[string]string{}, map[string]string{}
	for _, l := range Languages() {
		if l.Comment.Start == "" {
			t.Errorf("%s has no comment syntax", l.Name)
		}
		for _, n := range append([]string{l.Name}, l.Aliases...) {
			if prev, dup := names[n]; dup {
				t.Errorf("name %q of %s is also %s's", n, l.Name, prev)
			}
			names[n] = l.Name
		}
		for _, e := range l.Exts {
			if prev, dup := exts[e]; dup {
				t.Errorf("extension %q of %s is also %s's", e, l.Name, prev)
			}
			exts[e] = l.Name
		}
	}
	if Names()[0] != "python" {
		t.Errorf("first language %q, want python", Names()[0])
	}
	for _, f := range vllm.Families() {
		langs := FamilyLanguages(f)
		if !slices.Contains(langs, "python") {
			t.Errorf("%s does not complete Python", f)
		}
		for _, l := range langs {
			if _, ok := Lookup(l); !ok {
				t.Errorf("%s lists %q, not in the table", f, l)
			}
		}
	}
	if got := FamilyLanguages(vllm.FamilyCodeLlama); slices.Contains(got, "rust") || len(got) != 9 {
		t.Errorf("codellama: %v", got)
	}
}
