package web

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestSplitCode(t *testing.T) {
	cases := []struct {
		name, in, code, expl string
	}{
		{"python fence", "Here is the function:\n```python\ndef add(a, b):\n    return a + b\n```\nIt adds two numbers.",
			"def add(a, b):\n    return a + b", "Here is the function:\nIt adds two numbers."},
		{"unlabelled fence", "```\nx = 1\n```", "x = 1", ""},
		{"two python blocks", "First:\n```py\nimport os\n```\nThen:\n```python\nprint(os.getcwd())\n```\n",
			"import os\n\nprint(os.getcwd())", "First:\nThen:"},
		{"other language stays prose", "Install it:\n```bash\npip install requests\n```\n```python\nimport requests\n```",
			"import requests", "Install it:\n```bash\npip install requests\n```"},
		{"only other language", "```bash\nls -la\n```\nLists files.", "ls -la", "Lists files."},
		{"unterminated fence", "Sure.\n```python\ndef f():\n    return 1\n", "def f():\n    return 1", "Sure."},
		{"no fence, code only", "def add(a, b):\n    return a + b\n\nprint(add(1, 2))",
			"def add(a, b):\n    return a + b\n\nprint(add(1, 2))", ""},
		{"no fence, mixed", "This function adds numbers.\ndef add(a, b):\n    return a + b\nUse it with two ints.",
			"def add(a, b):\n    return a + b", "This function adds numbers.\nUse it with two ints."},
		{"no fence, prose only", "The code sorts the list in place.", "", "The code sorts the list in place."},
		{"korean prose", "두 수를 더하는 함수입니다.\nresult = add(1, 2)", "result = add(1, 2)", "두 수를 더하는 함수입니다."},
		{"assignment and comment", "# compute\ntotal = sum(xs)\ntotal += 1", "# compute\ntotal = sum(xs)\ntotal += 1", ""},
		{"comparison is not assignment", "Check whether x == y holds.", "", "Check whether x == y holds."},
		{"empty", "", "", ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, expl := splitCode(tc.in)
			if code != tc.code || expl != tc.expl {
				t.Errorf("splitCode(%q)\n code %q, want %q\n expl %q, want %q", tc.in, code, tc.code, expl, tc.expl)
			}
		})
	}
}

func TestMarkerCut(t *testing.T) {
	cases := []struct {
		name   string
		pieces []string
		want   string
		cut    bool
	}{
		{"plain", []string{"a", "b", "c"}, "abc", false},
		{"whole marker", []string{"x = 1\n", "<|EOT|>", "junk"}, "x = 1\n", true},
		{"marker split over pieces", []string{"x = 1\n# --- Gen", "eration Com", "plete ---\nmore"}, "x = 1\n", true},
		{"false start released", []string{"a <", "b> c"}, "a <b> c", false},
		{"comment is not a marker", []string{"# note\n", "y = 2"}, "# note\ny = 2", false},
		{"DONE inside", []string{"print('[DO", "NE]')"}, "print('", true},
		{"trailing partial at end", []string{"value [END"}, "value [END", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var m markerCut
			var b strings.Builder
			cut := false
			for _, p := range tc.pieces {
				out, c := m.push(p)
				b.WriteString(out)
				cut = cut || c
			}
			b.WriteString(m.flush())
			if b.String() != tc.want || cut != tc.cut {
				t.Errorf("got %q cut %v, want %q cut %v", b.String(), cut, tc.want, tc.cut)
			}
			if whole := cutMarkers(strings.Join(tc.pieces, "")); whole != tc.want {
				t.Errorf("cutMarkers = %q, want %q", whole, tc.want)
			}
		})
	}
}

func TestAppendJSONString(t *testing.T) {
	for _, s := range []string{"", "plain", "quote\" back\\slash", "new\nline\ttab\rcr", "\x00\x1f ctl", "<html> & </c>",
		"한국어 😀", "bad \xff utf8", "line\u2028sep\u2029", "\u007f del"} {
		got := appendJSONString(nil, s)
		var back string
		if err := json.Unmarshal(got, &back); err != nil {
			t.Errorf("%q → %s: invalid JSON: %v", s, got, err)
			continue
		}
		want := strings.ToValidUTF8(s, "\uFFFD")
		if back != want {
			t.Errorf("%q → %s → %q", s, got, back)
		}
		if strings.ContainsAny(string(got), "\n\r\u2028\u2029") {
			t.Errorf("%q → %s has a raw line break", s, got)
		}
	}
}

func TestAnalyseContext(t *testing.T) {
	cases := []struct {
		prefix   string
		typ      string
		indent   int
		last     string
		expected string
	}{
		{"import os\n", "module", 0, "os", "statement"},
		{"def f(x):\n    y = ", "function", 4, "=", "expression"},
		{"class A:\n    def m(self):\n        return self.", "method", 8, ".", "expression"},
		{"class A:\n    x = 1\n    ", "class", 4, "1", "statement"},
		{"for i in range(", "module", 0, "(", "argument"},
		{"if ok:", "module", 0, ":", "block"},
	}
	for _, tc := range cases {
		a := analyseContext(tc.prefix)
		if a.ContextType != tc.typ || a.IndentationLevel != tc.indent || a.LastToken != tc.last || a.ExpectedCompletion != tc.expected {
			t.Errorf("analyseContext(%q) = %+v", tc.prefix, a)
		}
	}
}

// FuzzSplitCode checks that the split never invents text and never panics.
func FuzzSplitCode(f *testing.F) {
	f.Add("Here:\n```python\nx = 1\n```\nDone.")
	f.Add("def f():\n    pass\nText.")
	f.Add("```")
	f.Add("``````")
	f.Fuzz(func(t *testing.T, s string) {
		code, expl := splitCode(s)
		if !utf8.ValidString(s) {
			return
		}
		if len(code) > len(s)+8 || len(expl) > len(s)+8 {
			t.Fatalf("split grew the text: %q → %q / %q", s, code, expl)
		}
	})
}
