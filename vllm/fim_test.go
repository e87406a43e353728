package vllm_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/hapa-project/hapa/vllm"
)

func TestRenderFIM(t *testing.T) {
	tests := []struct {
		family   vllm.Family
		want     string
		someStop string
	}{
		{vllm.FamilyDeepSeekCoder, "<\uff5cfim\u2581begin\uff5c>def f():\n    <\uff5cfim\u2581hole\uff5c>\n    return x<\uff5cfim\u2581end\uff5c>", "<|EOT|>"},
		{vllm.FamilyQwenCoder, "<|fim_prefix|>def f():\n    <|fim_suffix|>\n    return x<|fim_middle|>", "<|endoftext|>"},
		{vllm.FamilyStarCoder, "<fim_prefix>def f():\n    <fim_suffix>\n    return x<fim_middle>", "<|endoftext|>"},
		{vllm.FamilyCodeLlama, "<PRE> def f():\n     <SUF>\n    return x <MID>", "<EOT>"},
		{vllm.FamilyCodestral, "[SUFFIX]\n    return x[PREFIX]def f():\n    ", "[PREFIX]"},
		{vllm.Family("unknown"), "<｜fim▁begin｜>def f():\n    <｜fim▁hole｜>\n    return x<｜fim▁end｜>", "<｜fim▁end｜>"},
	}
	for _, tt := range tests {
		t.Run(string(tt.family), func(t *testing.T) {
			got, stop := vllm.RenderFIM(tt.family, "def f():\n    ", "\n    return x")
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			if !slices.Contains(stop, tt.someStop) {
				t.Errorf("stop %q lacks %q", stop, tt.someStop)
			}
		})
	}
	// The DeepSeek tokens are full-width, not ASCII look-alikes.
	p, _ := vllm.RenderFIM(vllm.FamilyDeepSeekCoder, "", "")
	if strings.ContainsAny(p, "|_") || !strings.ContainsRune(p, '\uff5c') || !strings.ContainsRune(p, '\u2581') {
		t.Errorf("deepseek tokens %q", p)
	}
}

func TestParseFamily(t *testing.T) {
	tests := []struct {
		in   string
		want vllm.Family
		ok   bool
	}{
		{"", vllm.FamilyDeepSeekCoder, true},
		{"DeepSeek-Coder", vllm.FamilyDeepSeekCoder, true},
		{"qwen2.5-coder", vllm.FamilyQwenCoder, true},
		{"starcoder2", vllm.FamilyStarCoder, true},
		{"codellama", vllm.FamilyCodeLlama, true},
		{"codestral", vllm.FamilyCodestral, true},
		{"gpt", "", false},
	}
	for _, tt := range tests {
		got, err := vllm.ParseFamily(tt.in)
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("ParseFamily(%q) = %q, %v", tt.in, got, err)
		}
	}
	for _, f := range vllm.Families() {
		if got, err := vllm.ParseFamily(string(f)); err != nil || got != f {
			t.Errorf("round trip %q: %q %v", f, got, err)
		}
	}
}

func TestAdapterMap(t *testing.T) {
	def := vllm.DefaultAdapters()
	want := map[string]string{
		"code_completion": "autocomplete", "code_generation": "prompt", "code_optimization": "prompt",
		"unit_test_generation": "prompt", "code_explanation": "comment", "code_review": "comment",
		"documentation": "comment", "bug_fix": "error_fix",
	}
	if len(def) != len(want) {
		t.Fatalf("defaults %v", def)
	}
	for task, a := range want {
		if got, ok := def.Adapter(task); !ok || got != a {
			t.Errorf("%s → %q", task, got)
		}
	}
	def["bug_fix"] = "mutated"
	if a, _ := vllm.DefaultAdapters().Adapter("bug_fix"); a != vllm.AdapterErrorFix {
		t.Error("DefaultAdapters shares state")
	}
	tests := []struct {
		in      string
		task, a string
		ok      bool
	}{
		{"", "bug_fix", "error_fix", true},
		{"bug_fix=prompt, code_review = error_fix", "code_review", "error_fix", true},
		{"bug_fix=prompt", "bug_fix", "prompt", true},
		{"sql_generation=prompt", "sql_generation", "prompt", true},
		{"bug_fix", "", "", false},
		{"=prompt", "", "", false},
		{"bug_fix=", "", "", false},
	}
	for _, tt := range tests {
		m, err := vllm.ParseAdapterMap(tt.in)
		if (err == nil) != tt.ok {
			t.Errorf("ParseAdapterMap(%q) err %v", tt.in, err)
			continue
		}
		if tt.ok {
			if a, _ := m.Adapter(tt.task); a != tt.a {
				t.Errorf("ParseAdapterMap(%q)[%s] = %q", tt.in, tt.task, a)
			}
			if back, err := vllm.ParseAdapterMap(m.String()); err != nil || back.String() != m.String() {
				t.Errorf("round trip %q: %v", m.String(), err)
			}
		}
	}
}

// TestRenderFIMInput pins the prompt with a path header and a context file per family
// (docs/vllm.md, "Path header and context files"): golden strings, byte for byte.
func TestRenderFIMInput(t *testing.T) {
	in := vllm.FIMInput{
		Path: "app/models.py", Comment: vllm.Comment{Start: "#"},
		Files:  []vllm.FIMFile{{Path: "app/db.py", Text: "def connect():\n    pass", Comment: vllm.Comment{Start: "#"}}},
		Prefix: "def f():\n    ", Suffix: "\n    return x",
	}
	tests := []struct {
		family vllm.Family
		want   string
	}{
		{vllm.FamilyDeepSeekCoder, "<｜fim▁begin｜># app/db.py\ndef connect():\n    pass\n\n# app/models.py\ndef f():\n    <｜fim▁hole｜>\n    return x<｜fim▁end｜>"},
		{vllm.FamilyQwenCoder, "<|file_sep|>app/db.py\ndef connect():\n    pass\n<|file_sep|>app/models.py\n<|fim_prefix|>def f():\n    <|fim_suffix|>\n    return x<|fim_middle|>"},
		{vllm.FamilyStarCoder, "<file_sep>app/db.py\ndef connect():\n    pass\n<file_sep>app/models.py\n<fim_prefix>def f():\n    <fim_suffix>\n    return x<fim_middle>"},
		{vllm.FamilyCodeLlama, "<PRE> # app/db.py\ndef connect():\n    pass\n\n# app/models.py\ndef f():\n     <SUF>\n    return x <MID>"},
		{vllm.FamilyCodestral, "[SUFFIX]\n    return x[PREFIX]# app/db.py\ndef connect():\n    pass\n\n# app/models.py\ndef f():\n    "},
	}
	for _, tt := range tests {
		t.Run(string(tt.family), func(t *testing.T) {
			got, stop := vllm.RenderFIMInput(tt.family, in)
			if got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
			_, plainStop := vllm.RenderFIM(tt.family, "", "")
			if !slices.Equal(stop, plainStop) {
				t.Errorf("stop %q, want the family's %q", stop, plainStop)
			}
			if ctx := len(got) - len(mustRender(tt.family, in.Prefix, in.Suffix)); ctx > len(in.Path)+len(in.Files[0].Path)+len(in.Files[0].Text)+2*vllm.FIMHeaderOverhead {
				t.Errorf("the context adds %d bytes: more than FIMHeaderOverhead per file allows", ctx)
			}
		})
	}
	t.Run("path only", func(t *testing.T) {
		for fam, want := range map[vllm.Family]string{
			vllm.FamilyDeepSeekCoder: "<｜fim▁begin｜>// cmd/main.go\npackage main\n<｜fim▁hole｜><｜fim▁end｜>",
			vllm.FamilyQwenCoder:     "<|file_sep|>cmd/main.go\n<|fim_prefix|>package main\n<|fim_suffix|><|fim_middle|>",
		} {
			got, _ := vllm.RenderFIMInput(fam, vllm.FIMInput{Path: "cmd/main.go", Comment: vllm.Comment{Start: "//"}, Prefix: "package main\n"})
			if got != want {
				t.Errorf("%s: got %q, want %q", fam, got, want)
			}
		}
	})
	t.Run("block comment and hostile path", func(t *testing.T) {
		got, _ := vllm.RenderFIMInput(vllm.FamilyDeepSeekCoder, vllm.FIMInput{Path: "a\nb.html", Comment: vllm.Comment{Start: "<!--", End: " -->"}, Prefix: "<p>"})
		if want := "<｜fim▁begin｜><!-- a b.html -->\n<p><｜fim▁hole｜><｜fim▁end｜>"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
	t.Run("files without a path still separate the edited file", func(t *testing.T) {
		got, _ := vllm.RenderFIMInput(vllm.FamilyStarCoder, vllm.FIMInput{Files: []vllm.FIMFile{{Path: "x.py", Text: "x = 1\n"}}, Prefix: "y"})
		if want := "<file_sep>x.py\nx = 1\n<file_sep>\n<fim_prefix>y<fim_suffix><fim_middle>"; got != want {
			t.Errorf("got %q, want %q", got, want)
		}
	})
}

func mustRender(f vllm.Family, prefix, suffix string) string {
	p, _ := vllm.RenderFIM(f, prefix, suffix)
	return p
}
