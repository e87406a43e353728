package realtime

import "strings"

// The English instructions a profile turns into (docs/compatibility.md, "Profile
// fields"). Each enum value is one sentence; the system message is the task sentence
// plus one sentence per field.

var skillInstructions = map[string]string{
	"beginner":     "The user is a Python beginner: use simple constructs, avoid advanced idioms and explain each step in plain words.",
	"intermediate": "The user is an intermediate Python programmer: use common idioms and explain only the non-obvious parts.",
	"advanced":     "The user is an advanced Python programmer: write idiomatic, modern Python and skip basic explanations.",
	"expert":       "The user is a Python expert: be terse, use advanced features where they help and explain only subtle points.",
}

var structureInstructions = map[string]string{
	"minimal":       "Output only the essential code, without scaffolding or comments.",
	"standard":      "Output complete, runnable code with brief comments where they help.",
	"detailed":      "Output complete code with docstrings, comments and a short usage example.",
	"comprehensive": "Output complete code with docstrings, type-annotated signatures, comments, a usage example and tests.",
}

var explanationInstructions = map[string]string{
	"brief":       "Keep any explanation to one or two sentences.",
	"standard":    "Follow the code with a short explanation of how it works.",
	"detailed":    "Follow the code with a detailed explanation of the approach and its key decisions.",
	"educational": "Explain step by step as a teacher would: why each step is needed, and the common pitfalls.",
}

var projectInstructions = map[string]string{
	"web_development": "Assume a web development project (HTTP services, frameworks such as FastAPI, Flask or Django).",
	"data_science":    "Assume a data science project: prefer pandas and NumPy and handle data explicitly.",
	"automation":      "Assume an automation project: robust standalone scripts built on the standard library.",
	"general_purpose": "Assume a general-purpose Python project.",
	"academic":        "Assume an academic context: favour clarity and correctness over micro-optimisation.",
	"enterprise":      "Assume an enterprise codebase: maintainable, well-structured code with logging and clear interfaces.",
}

var errorInstructions = map[string]string{
	"minimal":          "Keep error handling to a minimum.",
	"basic":            "Handle the obvious error cases.",
	"comprehensive":    "Handle errors thoroughly: validate inputs and catch specific exceptions with helpful messages.",
	"production_ready": "Write production-ready error handling: validate inputs, raise specific exceptions, log failures and release resources.",
}

var featureNames = map[string]string{
	"type_hints":       "type hints",
	"dataclasses":      "dataclasses",
	"async_await":      "async/await",
	"comprehensions":   "comprehensions",
	"generators":       "generators",
	"decorators":       "decorators",
	"context_managers": "context managers",
	"f_strings":        "f-strings",
}

// systemPrompt renders the system message of a generation for task and the merged,
// normalised profile p.
func systemPrompt(task string, p Profile) string {
	var b strings.Builder
	b.Grow(768)
	b.WriteString("You are HAPA, a Python coding assistant.")
	for _, s := range []string{
		taskInstructions[task],
		skillInstructions[p.PythonSkillLevel],
		structureInstructions[p.CodeOutputStructure],
		explanationInstructions[p.ExplanationStyle],
		projectInstructions[p.ProjectContext],
		errorInstructions[p.ErrorHandlingPreference],
	} {
		if s != "" {
			b.WriteByte(' ')
			b.WriteString(s)
		}
	}
	if len(p.PreferredLanguageFeatures) > 0 {
		b.WriteString(" Where they fit, use these Python features: ")
		for i, f := range p.PreferredLanguageFeatures {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(featureNames[f])
		}
		b.WriteByte('.')
	}
	b.WriteString(" Put code in ```python fenced blocks.")
	return b.String()
}
