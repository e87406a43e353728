package web

import (
	"strings"
	"unicode"
)

// contextAnalysis describes the cursor position of a completion request (contract
// §3.2.4). Every field is read from the prefix itself; nothing is guessed about the
// model's output.
type contextAnalysis struct {
	ContextType        string `json:"context_type"` // module | function | class | method
	InFunction         bool   `json:"in_function"`
	InClass            bool   `json:"in_class"`
	IndentationLevel   int    `json:"indentation_level"` // leading columns of the cursor line (tab = 4)
	LastToken          string `json:"last_token"`
	ExpectedCompletion string `json:"expected_completion"` // block | argument | expression | statement
}

// analyseContext reads the enclosing def/class (by indentation) and the token before
// the cursor.
func analyseContext(prefix string) contextAnalysis {
	lines := strings.Split(prefix, "\n")
	cur := lines[len(lines)-1]
	a := contextAnalysis{IndentationLevel: indentOf(cur)}
	// The indentation that counts is the cursor line's, or the previous code line's
	// plus one level after a colon.
	limit := a.IndentationLevel
	if strings.TrimSpace(cur) == "" {
		limit = 1 << 30
	}
	for i := len(lines) - 2; i >= 0; i-- {
		t := strings.TrimSpace(lines[i])
		if t == "" || strings.HasPrefix(t, "#") {
			continue
		}
		ind := indentOf(lines[i])
		if ind >= limit {
			continue
		}
		limit = ind
		switch {
		case (strings.HasPrefix(t, "def ") || strings.HasPrefix(t, "async def ")) && !a.InClass:
			a.InFunction = true
		case strings.HasPrefix(t, "class "):
			a.InClass = true
		}
		if ind == 0 {
			break
		}
	}
	switch {
	case a.InFunction && a.InClass:
		a.ContextType = "method"
	case a.InFunction:
		a.ContextType = "function"
	case a.InClass:
		a.ContextType = "class"
	default:
		a.ContextType = "module"
	}
	a.LastToken = lastToken(prefix)
	a.ExpectedCompletion = expected(strings.TrimRightFunc(prefix, unicode.IsSpace), strings.HasSuffix(prefix, "\n"))
	return a
}

func indentOf(line string) int {
	n := 0
	for _, c := range line {
		switch c {
		case ' ':
			n++
		case '\t':
			n += 4
		default:
			return n
		}
	}
	return n
}

// lastToken is the last identifier, number or operator run before the cursor.
func lastToken(prefix string) string {
	s := strings.TrimRightFunc(prefix, unicode.IsSpace)
	if s == "" {
		return ""
	}
	word := func(r rune) bool { return r == '_' || unicode.IsLetter(r) || unicode.IsDigit(r) }
	rs := []rune(s)
	i := len(rs) - 1
	if word(rs[i]) {
		for i > 0 && word(rs[i-1]) {
			i--
		}
		return string(rs[i:])
	}
	return string(rs[i:])
}

// expected says what kind of code the cursor position calls for.
func expected(trimmed string, newline bool) string {
	switch {
	case strings.HasSuffix(trimmed, ":"):
		return "block"
	case strings.HasSuffix(trimmed, "(") || strings.HasSuffix(trimmed, ","):
		return "argument"
	case !newline && strings.ContainsAny(trimmed[max(0, len(trimmed)-1):], "=+-*/%<>&|^[{."):
		return "expression"
	}
	return "statement"
}
