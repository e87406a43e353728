package realtime

import "github.com/hapa-project/hapa/vllm"

// The HAPA tasks (the REST model_type) and their defaults. A task picks a LoRA adapter
// (vllm.DefaultAdapters, docs/compatibility.md, "Request body") and the sampling used
// when the caller sets nothing (docs/compatibility.md, "The four adapters").

// TaskCompletion is the task of inline completions (FIM on the autocomplete adapter).
const TaskCompletion = "code_completion"

// TaskGeneration is the default task of generations.
const TaskGeneration = "code_generation"

// Sampling is a task's default generation parameters.
type Sampling struct {
	MaxTokens   int
	Temperature float64
	TopP        float64
}

// defaultSampling holds the defaults per adapter. Completions are short and nearly
// greedy (they are cached and coalesced); generations follow the REST defaults of the
// original request model (docs/compatibility.md, "Request body": 1024 tokens, 0.3, 0.95).
var defaultSampling = map[string]Sampling{
	vllm.AdapterAutocomplete: {MaxTokens: 64, Temperature: 0.1, TopP: 0.9},
	vllm.AdapterPrompt:       {MaxTokens: 1024, Temperature: 0.3, TopP: 0.95},
	vllm.AdapterComment:      {MaxTokens: 512, Temperature: 0.3, TopP: 0.95},
	vllm.AdapterErrorFix:     {MaxTokens: 1024, Temperature: 0.2, TopP: 0.95},
}

// fallbackSampling applies to adapters or models without an entry.
var fallbackSampling = map[Kind]Sampling{
	KindCompletion: {MaxTokens: 64, Temperature: 0.1, TopP: 0.9},
	KindGeneration: {MaxTokens: 1024, Temperature: 0.3, TopP: 0.95},
}

// taskInstructions is the task sentence of the system message.
var taskInstructions = map[string]string{
	"code_generation":      "Write Python code that does what the user asks.",
	"code_optimization":    "Optimise the given Python code for speed and memory without changing its behaviour, and say what changed.",
	"unit_test_generation": "Write pytest unit tests for the given Python code, covering normal cases, edge cases and errors.",
	"code_explanation":     "Explain what the given Python code does and how it works.",
	"code_review":          "Review the given Python code: point out bugs, risks and style problems, and suggest concrete improvements.",
	"documentation":        "Write docstrings and comments for the given Python code; keep the code itself unchanged.",
	"bug_fix":              "Find the bug in the given Python code, show the corrected code, then explain the fix.",
}

// generationStop ends generations of the original adapters, which were fine-tuned to
// close with this marker (docs/compatibility.md, "The four adapters").
var generationStop = []string{"# --- Generation Complete ---"}
