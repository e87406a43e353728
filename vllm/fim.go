package vllm

import (
	"fmt"
	"strings"
)

// Family is a model family; it decides the fill-in-the-middle template
// (VLLM_MODEL_FAMILY).
type Family string

// The supported families. DeepSeek-Coder is the default: the original HAPA served
// deepseek-ai/deepseek-coder-6.7b-instruct.
const (
	FamilyDeepSeekCoder Family = "deepseek-coder"
	FamilyQwenCoder     Family = "qwen2.5-coder"
	FamilyStarCoder     Family = "starcoder"
	FamilyCodeLlama     Family = "codellama"
	FamilyCodestral     Family = "codestral"
)

// Families lists the supported families, default first.
func Families() []Family {
	return []Family{FamilyDeepSeekCoder, FamilyQwenCoder, FamilyStarCoder, FamilyCodeLlama, FamilyCodestral}
}

// ParseFamily parses a family name case-insensitively; "" is the default. It accepts a
// few common aliases (deepseek, qwen, starcoder2, code-llama, mistral).
func ParseFamily(s string) (Family, error) {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "", "deepseek-coder", "deepseek", "deepseekcoder", "deepseek_coder":
		return FamilyDeepSeekCoder, nil
	case "qwen2.5-coder", "qwen", "qwen-coder", "qwen2.5", "qwen2.5_coder":
		return FamilyQwenCoder, nil
	case "starcoder", "starcoder2", "santacoder":
		return FamilyStarCoder, nil
	case "codellama", "code-llama", "code_llama", "llama":
		return FamilyCodeLlama, nil
	case "codestral", "mistral":
		return FamilyCodestral, nil
	}
	return "", fmt.Errorf("vllm: unknown model family %q (want one of deepseek-coder, qwen2.5-coder, starcoder, codellama, codestral)", s)
}

// RenderFIM renders a fill-in-the-middle prompt for /v1/completions (which ignores
// `suffix`) with the family's special tokens, and returns the stop strings that end
// the infill. An unknown family renders as DeepSeek-Coder.
//
// The tokens are the literal strings of each tokenizer's added vocabulary; note that
// DeepSeek's use U+FF5C (｜) and U+2581 (▁), not ASCII '|' and '_'.
func RenderFIM(family Family, prefix, suffix string) (prompt string, stop []string) {
	return RenderFIMInput(family, FIMInput{Prefix: prefix, Suffix: suffix})
}

// Comment is a language's comment syntax: Start, then the text, then End (empty for
// line comments such as "#" and "//").
type Comment struct {
	Start, End string
}

// FIMFile is one file shown to the model before the file being edited: a context
// snippet (docs/vllm.md, "Path header and context files").
type FIMFile struct {
	Path    string
	Text    string
	Comment Comment // its language's comment, for families that name files in comments
}

// FIMInput is a fill-in-the-middle prompt with its file context: the path of the file
// being edited (its header) and other files' text before it. With no Path and no
// Files it renders exactly as RenderFIM always did.
type FIMInput struct {
	Path    string    // the edited file; "" = no header
	Comment Comment   // the edited file's comment syntax (default "#")
	Files   []FIMFile // context, least relevant first: the nearest the cursor weighs most
	Prefix  string
	Suffix  string
}

// fileTokens are the families trained with a file-separator token: a file is the
// token, its path, a newline and its text (docs/vllm.md, "Path header and context
// files"). The other families name files in a comment line.
var fileTokens = map[Family]string{
	FamilyQwenCoder: "<|file_sep|>",
	FamilyStarCoder: "<file_sep>",
}

// FIMHeaderOverhead bounds the bytes a file header adds besides its path: the
// separator token or comment markers, a space and the newlines (a packer's budget
// counts it per file).
const FIMHeaderOverhead = 32

// RenderFIMInput renders in with the family's template and returns the stop strings
// that end the infill. The context files and the edited file's path header come first
// inside the prefix, in the family's documented style: Qwen2.5-Coder and StarCoder
// separate files with their file-separator token followed by the path; DeepSeek-Coder,
// Code Llama and Codestral, which have no such token, get a comment line
// "{Start} {path}{End}" in the file's language.
func RenderFIMInput(family Family, in FIMInput) (prompt string, stop []string) {
	ctx := fileContext(family, in)
	switch family {
	case FamilyQwenCoder:
		return ctx + "<|fim_prefix|>" + in.Prefix + "<|fim_suffix|>" + in.Suffix + "<|fim_middle|>",
			[]string{"<|endoftext|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|fim_pad|>", "<|file_sep|>", "<|repo_name|>", "<|im_end|>"}
	case FamilyStarCoder:
		return ctx + "<fim_prefix>" + in.Prefix + "<fim_suffix>" + in.Suffix + "<fim_middle>",
			[]string{"<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>"}
	case FamilyCodeLlama:
		// Meta's infilling format: "<PRE> " prefix " <SUF>" suffix " <MID>".
		return "<PRE> " + ctx + in.Prefix + " <SUF>" + in.Suffix + " <MID>", []string{"<EOT>", "<PRE>", "<SUF>", "<MID>"}
	case FamilyCodestral:
		// Mistral's FIM order puts the suffix first; the middle is implicit.
		return "[SUFFIX]" + in.Suffix + "[PREFIX]" + ctx + in.Prefix, []string{"[SUFFIX]", "[PREFIX]", "[MIDDLE]", "</s>"}
	}
	return "<｜fim▁begin｜>" + ctx + in.Prefix + "<｜fim▁hole｜>" + in.Suffix + "<｜fim▁end｜>",
		[]string{"<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>", "<｜end▁of▁sentence｜>", "<|EOT|>"}
}

// fileContext renders the context files and the edited file's header ("" when there
// are neither).
func fileContext(family Family, in FIMInput) string {
	if in.Path == "" && len(in.Files) == 0 {
		return ""
	}
	n := len(in.Path) + FIMHeaderOverhead
	for _, f := range in.Files {
		n += len(f.Path) + len(f.Text) + FIMHeaderOverhead
	}
	var b strings.Builder
	b.Grow(n)
	sep, token := fileTokens[family]
	header := func(path string, c Comment) {
		path = OneLine(path) // whatever the caller sent
		switch {
		case token:
			b.WriteString(sep)
			b.WriteString(path)
			b.WriteByte('\n')
		case path != "":
			if c.Start == "" {
				c = Comment{Start: "#"}
			}
			b.WriteString(c.Start)
			b.WriteByte(' ')
			b.WriteString(path)
			b.WriteString(c.End)
			b.WriteByte('\n')
		}
	}
	for _, f := range in.Files {
		header(f.Path, f.Comment)
		b.WriteString(f.Text)
		if !strings.HasSuffix(f.Text, "\n") {
			b.WriteByte('\n')
		}
		if !token {
			b.WriteByte('\n') // a blank line between files named in comments
		}
	}
	// With a file token the edited file always gets its separator, so the prefix is
	// never read as the last context file's continuation.
	if in.Path != "" || token {
		header(in.Path, in.Comment)
	}
	return b.String()
}

// OneLine returns s with its line breaks as spaces: a path in a header is one line.
func OneLine(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return s
	}
	return strings.Map(func(r rune) rune {
		if r == '\r' || r == '\n' {
			return ' '
		}
		return r
	}, s)
}
