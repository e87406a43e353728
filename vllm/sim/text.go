package sim

import (
	"math/rand/v2"
	"strings"
)

// The simulator's "model": plausible Python shaped by the adapter, chosen by a
// generator seeded from (seed, model, prompt, temperature), so the same request always
// gets the same answer.

// subject extracts up to two identifier-like words of the prompt to name things after.
func subject(prompt string, r *rand.Rand) []string {
	var words []string
	for f := range strings.FieldsFuncSeq(prompt, func(c rune) bool {
		return !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z')
	}) {
		w := strings.ToLower(f)
		if len(w) < 4 || len(w) > 20 || isStopWord(w) {
			continue
		}
		words = append(words, w)
	}
	if len(words) == 0 {
		return []string{pick(r, []string{"data", "items", "values", "records"})}
	}
	if len(words) > 8 {
		words = words[len(words)-8:] // the question usually comes last
	}
	a := words[r.IntN(len(words))]
	b := words[r.IntN(len(words))]
	if a == b {
		return []string{a}
	}
	return []string{a, b}
}

// isStopWord reports words too generic to name things after.
func isStopWord(w string) bool {
	switch w {
	case "that", "this", "with", "from", "into", "write", "python", "function", "code",
		"please", "which", "return", "returns", "should", "using", "what", "does", "explain",
		"have", "your", "self", "none", "true", "false", "print", "import", "class", "user",
		"assistant", "system", "begin", "hole", "prefix", "suffix", "middle", "generation",
		"complete":
		return true
	}
	return false
}

func pick(r *rand.Rand, xs []string) string { return xs[r.IntN(len(xs))] }

// bodyTemplate returns one of the function bodies ({arg} is the parameter).
func bodyTemplate(i int) string {
	switch i {
	case 0:
		return "    result = []\n    for item in {arg}:\n        if item is not None:\n            result.append(item)\n    return result\n"
	case 1:
		return "    if not {arg}:\n        return {{}}\n    counts = {{}}\n    for item in {arg}:\n        counts[item] = counts.get(item, 0) + 1\n    return counts\n"
	case 2:
		return "    total = 0\n    for value in {arg}:\n        total += value\n    return total / len({arg}) if {arg} else 0.0\n"
	case 3:
		return "    seen = set()\n    unique = []\n    for item in {arg}:\n        if item not in seen:\n            seen.add(item)\n            unique.append(item)\n    return unique\n"
	}
	return "    return sorted({arg}, key=lambda item: (item is None, item))\n"
}

func fill(tmpl, fn, arg string) string {
	s := strings.ReplaceAll(tmpl, "{fn}", fn)
	s = strings.ReplaceAll(s, "{arg}", arg)
	s = strings.ReplaceAll(s, "{{}}", "{}")
	return s
}

// generate returns the full output for adapter (the base model answers like prompt).
func generate(adapter, prompt string, r *rand.Rand) string {
	words := subject(prompt, r)
	fn := strings.Join(words, "_")
	arg := pick(r, []string{"items", "values", "data", "records"})
	body := fill(bodyTemplate(r.IntN(5)), fn, arg)
	sig := "def " + fn + "(" + arg + "):\n"
	doc := "    \"\"\"" + capital(pick(r, []string{"Process", "Compute", "Collect", "Normalise"})) +
		" the " + strings.Join(words, " ") + " of " + arg + ".\"\"\"\n"
	switch adapter {
	case "autocomplete":
		return body
	case "comment":
		return "    \"\"\"" + capital(strings.Join(words, " ")) + " helper.\n\n" +
			"    Args:\n        " + arg + ": the input sequence to process.\n\n" +
			"    Returns:\n        The " + pick(r, []string{"processed", "computed", "filtered"}) +
			" result for " + arg + ".\n    \"\"\"\n"
	case "error_fix":
		return "```python\n" + sig + doc + "    if " + arg + " is None:\n        raise ValueError(\"" +
			arg + " must not be None\")\n" + body + "```\n\n--- Fix Explanation ---\n" +
			"The original code did not handle a missing `" + arg + "` argument, which raised a " +
			pick(r, []string{"TypeError", "AttributeError"}) + ". The fix checks the input first " +
			"and raises a clear ValueError instead.\n"
	}
	return "Here is a Python implementation:\n\n```python\n" + sig + doc + body + "```\n\n" +
		"The function `" + fn + "` " + pick(r, []string{"walks through", "iterates over", "scans"}) +
		" `" + arg + "` once, so it runs in O(n) time. " +
		pick(r, []string{"It returns early for empty input.", "It has no side effects.", "It is easy to test."}) + "\n"
}

func capital(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}
