package codectx

import (
	"strings"

	"github.com/hapa-project/hapa/vllm"
)

// guardSlack is the tokens the context-length guard keeps free besides the prompt's
// bytes and max_tokens: a tokenizer's begin-of-text and dummy-prefix tokens.
const guardSlack = 16

// Room is the context budget of one request, in bytes (docs/vllm.md, "Context
// budget"): the token budget at 3.5 bytes per token, and never more than the model's
// context length leaves after the prompt without context and max_tokens, counted at
// one token per byte (no tokenizer of the supported families makes more tokens than
// bytes), so the context cannot push a request that fits past max_model_len.
// maxModelLen 0 means unknown: the budget alone applies.
func Room(budgetTokens, maxModelLen, promptBytes, maxTokens int) int {
	room := BudgetBytes(max(budgetTokens, 0))
	if maxModelLen > 0 {
		room = min(room, maxModelLen-maxTokens-promptBytes-guardSlack)
	}
	return max(room, 0)
}

// FIM is a completion prompt to build: the edited file, the cursor, the snippets and
// the limits.
type FIM struct {
	Family       vllm.Family
	Path         string // the edited file ("" = no header)
	Language     string // canonical language of the edited file (its comment syntax)
	Prefix       string
	Suffix       string
	Snippets     []Snippet
	BudgetTokens int // context budget (CONTEXT_TOKEN_BUDGET); 0 = no snippets
	MaxModelLen  int // the model's context length; 0 = unknown
	MaxTokens    int // the request's max_tokens
}

// Built is a rendered prompt and what went into it.
type Built struct {
	Prompt  string
	Stop    []string
	Pieces  []Piece // the packed context, least relevant first
	Room    int     // the context budget in bytes this request had
	Context int     // bytes the packed context used of it (Cost)
}

// BuildFIM renders f with the family's template: the packed snippets, the path
// header, then prefix and suffix (vllm.RenderFIMInput).
func BuildFIM(f FIM) Built {
	in := vllm.FIMInput{Path: f.Path, Comment: commentOf(f.Language, ""), Prefix: f.Prefix, Suffix: f.Suffix}
	var b Built
	if len(f.Snippets) > 0 && f.BudgetTokens > 0 {
		// The prompt without context: prefix, suffix, the path header and the
		// template's own tokens (under 64 bytes in every family).
		base := len(f.Prefix) + len(f.Suffix) + len(f.Path) + vllm.FIMHeaderOverhead + 64
		b.Room = Room(f.BudgetTokens, f.MaxModelLen, base, f.MaxTokens)
		b.Pieces = Pack(f.Snippets, QueryOf(f.Prefix, f.Suffix), b.Room)
		b.Context = Cost(b.Pieces)
		in.Files = make([]vllm.FIMFile, len(b.Pieces))
		for i, p := range b.Pieces {
			in.Files[i] = vllm.FIMFile{Path: p.Path, Text: p.Text, Comment: commentOf(f.Language, p.Path)}
		}
	}
	b.Prompt, b.Stop = vllm.RenderFIMInput(f.Family, in)
	return b
}

// commentOf is the comment syntax of a snippet at path: its own language's when the
// path names one, else the edited file's (lang), else "#".
func commentOf(lang, path string) vllm.Comment {
	if l, ok := Detect(path); ok && path != "" {
		return l.Comment
	}
	if l, ok := Lookup(lang); ok {
		return l.Comment
	}
	return vllm.Comment{Start: "#"}
}

// Related renders packed pieces for a chat prompt: a titled list of fenced files,
// least relevant first, or "" when there are none. Its length is at most Cost(ps).
func Related(ps []Piece) string {
	if len(ps) == 0 {
		return ""
	}
	var b strings.Builder
	b.Grow(Cost(ps) + 64)
	b.WriteString("Related code from other files:")
	for _, p := range ps {
		fence := "text"
		if l, ok := Detect(p.Path); ok {
			fence = l.Name
		}
		b.WriteString("\n\n")
		if p.Path != "" {
			b.WriteString(vllm.OneLine(p.Path))
			b.WriteString(":\n")
		}
		b.WriteString("```")
		b.WriteString(fence)
		b.WriteByte('\n')
		b.WriteString(strings.TrimRight(p.Text, "\n"))
		b.WriteString("\n```")
	}
	return b.String()
}
