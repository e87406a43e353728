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
	switch family {
	case FamilyQwenCoder:
		return "<|fim_prefix|>" + prefix + "<|fim_suffix|>" + suffix + "<|fim_middle|>",
			[]string{"<|endoftext|>", "<|fim_prefix|>", "<|fim_suffix|>", "<|fim_middle|>", "<|fim_pad|>", "<|file_sep|>", "<|repo_name|>", "<|im_end|>"}
	case FamilyStarCoder:
		return "<fim_prefix>" + prefix + "<fim_suffix>" + suffix + "<fim_middle>",
			[]string{"<|endoftext|>", "<fim_prefix>", "<fim_suffix>", "<fim_middle>", "<file_sep>"}
	case FamilyCodeLlama:
		// Meta's infilling format: "<PRE> " prefix " <SUF>" suffix " <MID>".
		return "<PRE> " + prefix + " <SUF>" + suffix + " <MID>", []string{"<EOT>", "<PRE>", "<SUF>", "<MID>"}
	case FamilyCodestral:
		// Mistral's FIM order puts the suffix first; the middle is implicit.
		return "[SUFFIX]" + suffix + "[PREFIX]" + prefix, []string{"[SUFFIX]", "[PREFIX]", "[MIDDLE]", "</s>"}
	}
	return "<｜fim▁begin｜>" + prefix + "<｜fim▁hole｜>" + suffix + "<｜fim▁end｜>",
		[]string{"<｜fim▁begin｜>", "<｜fim▁hole｜>", "<｜fim▁end｜>", "<｜end▁of▁sentence｜>", "<|EOT|>"}
}
