package codectx

import (
	"path"
	"slices"
	"strings"

	"github.com/hapa-project/hapa/vllm"
)

// Language is one programming language HAPA can name: its canonical name (what the
// request log, the feedback events and E4009 use), the names editors send for it, the
// file extensions that detect it, and its comment syntax (the path header of the
// families that name files in comments).
type Language struct {
	Name    string
	Aliases []string // other names accepted in `language` (VS Code language ids among them)
	Exts    []string // lower-case extensions with the dot, or whole file names (Makefile)
	Comment vllm.Comment
}

var (
	hash  = vllm.Comment{Start: "#"}
	slash = vllm.Comment{Start: "//"}
	dash  = vllm.Comment{Start: "--"}
	xml   = vllm.Comment{Start: "<!--", End: " -->"}
	block = vllm.Comment{Start: "/*", End: " */"}
)

// languages is the table, Python first (the default of a request that names none).
var languages = []Language{
	{"python", []string{"py", "python3"}, []string{".py", ".pyi", ".pyw"}, hash},
	{"javascript", []string{"js", "javascriptreact", "jsx", "node"}, []string{".js", ".mjs", ".cjs", ".jsx"}, slash},
	{"typescript", []string{"ts", "typescriptreact", "tsx"}, []string{".ts", ".tsx", ".mts", ".cts"}, slash},
	{"go", []string{"golang"}, []string{".go"}, slash},
	{"rust", []string{"rs"}, []string{".rs"}, slash},
	{"java", nil, []string{".java"}, slash},
	{"kotlin", []string{"kt"}, []string{".kt", ".kts"}, slash},
	{"scala", nil, []string{".scala", ".sc"}, slash},
	{"groovy", []string{"gradle"}, []string{".groovy", ".gradle"}, slash},
	{"c", nil, []string{".c", ".h"}, slash},
	{"cpp", []string{"c++", "cxx", "cuda-cpp"}, []string{".cc", ".cpp", ".cxx", ".hpp", ".hh", ".hxx", ".c++", ".cu", ".cuh"}, slash},
	{"csharp", []string{"c#", "cs"}, []string{".cs"}, slash},
	{"fsharp", []string{"f#"}, []string{".fs", ".fsx", ".fsi"}, slash},
	{"objective-c", []string{"objc", "objective-cpp"}, []string{".m", ".mm"}, slash},
	{"swift", nil, []string{".swift"}, slash},
	{"dart", nil, []string{".dart"}, slash},
	{"php", nil, []string{".php"}, slash},
	{"ruby", []string{"rb"}, []string{".rb", ".rake", "gemfile", "rakefile"}, hash},
	{"perl", []string{"pl"}, []string{".pl", ".pm"}, hash},
	{"lua", nil, []string{".lua"}, dash},
	{"r", nil, []string{".r"}, hash},
	{"julia", []string{"jl"}, []string{".jl"}, hash},
	{"haskell", []string{"hs"}, []string{".hs"}, dash},
	{"elixir", []string{"ex"}, []string{".ex", ".exs"}, hash},
	{"erlang", []string{"erl"}, []string{".erl", ".hrl"}, vllm.Comment{Start: "%"}},
	{"clojure", []string{"clj"}, []string{".clj", ".cljs", ".cljc"}, vllm.Comment{Start: ";;"}},
	{"ocaml", []string{"ml"}, []string{".ml", ".mli"}, vllm.Comment{Start: "(*", End: " *)"}},
	{"zig", nil, []string{".zig"}, slash},
	{"solidity", []string{"sol"}, []string{".sol"}, slash},
	{"shell", []string{"shellscript", "bash", "sh", "zsh"}, []string{".sh", ".bash", ".zsh"}, hash},
	{"powershell", []string{"ps1", "pwsh"}, []string{".ps1", ".psm1"}, hash},
	{"sql", []string{"plsql", "postgres", "mysql"}, []string{".sql"}, dash},
	{"html", nil, []string{".html", ".htm"}, xml},
	{"css", nil, []string{".css"}, block},
	{"scss", []string{"sass", "less"}, []string{".scss", ".sass", ".less"}, slash},
	{"vue", nil, []string{".vue"}, xml},
	{"svelte", nil, []string{".svelte"}, xml},
	{"markdown", []string{"md"}, []string{".md", ".markdown"}, xml},
	{"yaml", []string{"yml"}, []string{".yml", ".yaml"}, hash},
	{"toml", nil, []string{".toml"}, hash},
	{"terraform", []string{"hcl", "tf"}, []string{".tf", ".hcl"}, hash},
	{"protobuf", []string{"proto", "proto3"}, []string{".proto"}, slash},
	{"dockerfile", []string{"docker"}, []string{"dockerfile", ".dockerfile"}, hash},
	{"makefile", []string{"make"}, []string{"makefile", "gnumakefile", ".mk"}, hash},
	{"latex", []string{"tex"}, []string{".tex"}, vllm.Comment{Start: "%"}},
}

// byName and byExt index the table by name or alias and by extension. They are built
// once from it and only read afterwards (the request path looks languages up).
var byName, byExt = indexes()

func indexes() (map[string]int, map[string]int) {
	names, exts := map[string]int{}, map[string]int{}
	for i, l := range languages {
		names[l.Name] = i
		for _, a := range l.Aliases {
			names[a] = i
		}
		for _, e := range l.Exts {
			exts[e] = i
		}
	}
	return names, exts
}

// Languages returns every language of the table, Python first.
func Languages() []Language { return slices.Clone(languages) }

// Names returns the canonical names of the table, Python first.
func Names() []string {
	out := make([]string, len(languages))
	for i, l := range languages {
		out[i] = l.Name
	}
	return out
}

// Lookup finds a language by its name or an alias, ignoring case and surrounding
// space.
func Lookup(name string) (Language, bool) {
	i, ok := byName[strings.ToLower(strings.TrimSpace(name))]
	if !ok {
		return Language{}, false
	}
	return languages[i], true
}

// Detect names the language of a file path by its extension (or its whole name, for
// Makefile and Dockerfile); both separators are accepted, case is ignored.
func Detect(filePath string) (Language, bool) {
	base := strings.ToLower(path.Base(strings.ReplaceAll(filePath, "\\", "/")))
	if i, ok := byExt[base]; ok {
		return languages[i], true
	}
	if i, ok := byExt[path.Ext(base)]; ok && path.Ext(base) != "" {
		return languages[i], true
	}
	return Language{}, false
}

// codeLlamaLanguages are the languages Code Llama's paper evaluates (MultiPL-E: Python,
// C++, Java, PHP, TypeScript, C#, Bash) and the two they contain (C, JavaScript). The
// other families were trained on 80 or more languages, among them every one of the
// table (docs/vllm.md, "Languages").
var codeLlamaLanguages = []string{"python", "c", "cpp", "java", "php", "javascript", "typescript", "csharp", "shell"}

// FamilyLanguages returns the canonical names of the languages family completes by
// default (COMPLETION_LANGUAGES overrides it).
func FamilyLanguages(family vllm.Family) []string {
	if family == vllm.FamilyCodeLlama {
		return slices.Clone(codeLlamaLanguages)
	}
	return Names()
}
