package realtime

import (
	"strings"
	"testing"

	"github.com/hapa-project/hapa/vllm"
)

// TestRequestLanguage: completions accept the family's languages, named or detected
// from file_path, and E4009 the rest; chat generations stay Python-only; the request
// carries the canonical name on (feedback and metrics label with it).
func TestRequestLanguage(t *testing.T) {
	e := newTestEngine(t, EngineConfig{}, EngineDeps{})
	llama := newTestEngine(t, EngineConfig{Family: vllm.FamilyCodeLlama}, EngineDeps{})
	only := newTestEngine(t, EngineConfig{Languages: []string{"Go", "golang", "ts"}}, EngineDeps{})
	comp := func(lang, path string) Request {
		return Request{Kind: KindCompletion, Prefix: "x", Language: lang, FilePath: path}
	}
	tests := []struct {
		name string
		e    *Engine
		req  Request
		want string // canonical language; "" = E4009
	}{
		{"extension's python", e, comp("python", "src/app.py"), "python"},
		{"none at all", e, comp("", ""), "python"},
		{"detected go", e, comp("", "cmd/main.go"), "go"},
		{"detected tsx", e, comp("", "ui/App.tsx"), "typescript"},
		{"named rust", e, comp("rust", ""), "rust"},
		{"vs code id", e, comp("typescriptreact", ""), "typescript"},
		{"named wins over path", e, comp("python", "x.go"), "python"},
		{"unknown extension is python", e, comp("", "notes.txt"), "python"},
		{"unknown language", e, comp("cobol", ""), ""},
		{"codellama has no rust", llama, comp("", "src/lib.rs"), ""},
		{"codellama has java", llama, comp("", "A.java"), "java"},
		{"override", only, comp("", "main.go"), "go"},
		{"override leaves python out", only, comp("python", ""), ""},
		{"completion-task generation is FIM", e, Request{Prompt: "x", Task: TaskCompletion, Language: "go"}, "go"},
		{"chat generation python", e, Request{Prompt: "x", Language: "py"}, "python"},
		{"chat generation go", e, Request{Prompt: "x", Language: "go"}, ""},
		{"chat generation ignores the path", e, Request{Prompt: "x", FilePath: "main.go"}, "python"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req := tt.req
			err := tt.e.validate(&req)
			if tt.want == "" {
				if err == nil || err.Code != CodeUnsupportedLang || err.Fields[0].Field != "language" {
					t.Fatalf("got %v, want E4009 on language", err)
				}
				return
			}
			if err != nil || req.Language != tt.want {
				t.Fatalf("language %q, %v; want %q", req.Language, err, tt.want)
			}
		})
	}
	if _, err := NewEngine(EngineConfig{Languages: []string{"python", "klingon"}}, EngineDeps{Upstream: (*vllm.Client)(nil)}); err == nil || !strings.Contains(err.Error(), "klingon") {
		t.Errorf("an unknown configured language: %v", err)
	}
	if got := only.Models().CompletionLanguages; len(got) != 2 || got[0] != "go" || got[1] != "typescript" {
		t.Errorf("catalogue languages %v", got)
	}
}

func TestValidateSnippets(t *testing.T) {
	e := newTestEngine(t, EngineConfig{MaxSnippets: 3, MaxSnippetChars: 100, MaxSnippetsChars: 250}, EngineDeps{})
	snip := func(n int) ContextSnippet { return ContextSnippet{Path: "a.py", Text: strings.Repeat("é", n)} }
	tests := []struct {
		name  string
		snips []ContextSnippet
		code  Code
		field string
	}{
		{"fine", []ContextSnippet{snip(100), snip(100)}, "", ""},
		{"no path is fine", []ContextSnippet{{Text: "x = 1"}}, "", ""},
		{"too many", []ContextSnippet{snip(1), snip(1), snip(1), snip(1)}, CodePayloadTooLarge, "context_snippets"},
		{"one too large", []ContextSnippet{snip(1), snip(101)}, CodePayloadTooLarge, "context_snippets[1].text"},
		{"too much together", []ContextSnippet{snip(100), snip(100), snip(100)}, CodePayloadTooLarge, "context_snippets"},
		{"empty text", []ContextSnippet{{Path: "a.py", Text: " \n"}}, CodeMissingField, "context_snippets[0].text"},
		{"long path", []ContextSnippet{{Path: strings.Repeat("p", 1001), Text: "x"}}, CodeOutOfRange, "context_snippets[0].path"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, req := range []Request{
				{Kind: KindCompletion, Prefix: "x", ContextSnippets: tt.snips},
				{Prompt: "x", ContextSnippets: tt.snips},
			} {
				err := e.validate(&req)
				if tt.code == "" {
					if err != nil {
						t.Fatalf("unexpected %v %+v", err, err.Fields)
					}
					continue
				}
				if err == nil || err.Code != tt.code || err.Fields[0].Field != tt.field {
					t.Fatalf("got %v, want %s on %s", err, tt.code, tt.field)
				}
			}
		})
	}
	req := Request{Kind: KindCompletion, Prefix: "x", FilePath: strings.Repeat("p", 1001)}
	if err := e.validate(&req); err == nil || err.Fields[0].Field != "file_path" {
		t.Errorf("long file_path: %v", err)
	}
}
