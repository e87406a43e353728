package bench

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"maps"
	"path"
	"slices"
	"strings"

	"github.com/hapa-project/hapa/realtime/codectx"
)

// The completion corpus (testdata/completion): four small repositories in Python, Go,
// TypeScript and Rust, and cases that each name a line of one file. A case's request
// is the file cut at that line's indentation — the code before it the prefix, the
// rest of the file the suffix — with the repository's other files as context
// snippets; its expected completion is the rest of the line. Most lines call into
// another file, so the context decides whether a model can know them.

//go:embed testdata/completion
var corpusFS embed.FS

const corpusRoot = "testdata/completion"

// CorpusCase is one cursor position of the corpus.
type CorpusCase struct {
	File     string `json:"file"`     // repository/path
	Line     int    `json:"line"`     // 1-based
	Expected string `json:"expected"` // the line without its indentation
}

// Corpus is the loaded corpus: its cases and every file by repository/path.
type Corpus struct {
	Cases []CorpusCase
	Files map[string]string
}

// CompletionCase is a case turned into a completion request.
type CompletionCase struct {
	Repo, Path, Language string
	Prefix, Suffix       string
	Expected             string
	Snippets             []codectx.Snippet // the repository's other files, by path
}

// LoadCorpus reads the embedded corpus and checks every case against its file.
func LoadCorpus() (*Corpus, error) {
	c := &Corpus{Files: map[string]string{}}
	err := fs.WalkDir(corpusFS, corpusRoot, func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || path.Base(p) == "cases.json" {
			return err
		}
		b, err := corpusFS.ReadFile(p)
		c.Files[strings.TrimPrefix(p, corpusRoot+"/")] = string(b)
		return err
	})
	if err != nil {
		return nil, err
	}
	b, err := corpusFS.ReadFile(corpusRoot + "/cases.json")
	if err != nil {
		return nil, err
	}
	var doc struct {
		Cases []CorpusCase `json:"cases"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		return nil, fmt.Errorf("bench: corpus cases: %w", err)
	}
	c.Cases = doc.Cases
	for _, k := range c.Cases {
		if _, err := c.Request(k); err != nil {
			return nil, err
		}
	}
	return c, nil
}

// Request cuts case k into its completion request.
func (c *Corpus) Request(k CorpusCase) (CompletionCase, error) {
	text, ok := c.Files[k.File]
	if !ok {
		return CompletionCase{}, fmt.Errorf("bench: corpus case names %s, which is not in the corpus", k.File)
	}
	lines := strings.SplitAfter(text, "\n")
	if k.Line < 1 || k.Line > len(lines) {
		return CompletionCase{}, fmt.Errorf("bench: corpus case %s:%d is past the file's end", k.File, k.Line)
	}
	line := strings.TrimRight(lines[k.Line-1], "\n")
	body := strings.TrimLeft(line, " \t")
	if body != k.Expected {
		return CompletionCase{}, fmt.Errorf("bench: corpus case %s:%d expects %q, the file has %q", k.File, k.Line, k.Expected, body)
	}
	repo, rel, _ := strings.Cut(k.File, "/")
	cc := CompletionCase{Repo: repo, Path: rel, Expected: k.Expected,
		Prefix: strings.Join(lines[:k.Line-1], "") + line[:len(line)-len(body)],
		Suffix: "\n" + strings.Join(lines[k.Line:], "")}
	if l, ok := codectx.Detect(rel); ok {
		cc.Language = l.Name
	}
	for _, name := range slices.Sorted(maps.Keys(c.Files)) {
		if other, p, _ := strings.Cut(name, "/"); other == repo && p != rel {
			cc.Snippets = append(cc.Snippets, codectx.Snippet{Path: p, Text: c.Files[name]})
		}
	}
	return cc, nil
}

// Stress returns n snippets of lines lines each, cut from the corpus's files in turn
// (each starting at a different file and line), as an editor with many open tabs
// sends them.
func (c *Corpus) Stress(n, lines int) []codectx.Snippet {
	var all []string
	for _, name := range slices.Sorted(maps.Keys(c.Files)) {
		lines := strings.SplitAfter(strings.TrimRight(c.Files[name], "\n")+"\n", "\n")
		all = append(all, lines[:len(lines)-1]...) // the last element is the empty rest
	}
	out := make([]codectx.Snippet, n)
	for i := range out {
		var b strings.Builder
		for j := range lines {
			b.WriteString(all[(i*37+j)%len(all)])
		}
		out[i] = codectx.Snippet{Path: fmt.Sprintf("tab%02d/file.txt", i), Text: b.String()}
	}
	return out
}
