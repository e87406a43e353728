package web

import (
	"regexp"
	"strings"
)

// splitCode separates a generation into code and explanation (docs/compatibility.md,
// "One-shot").
//
// Fenced blocks win: when the text has ``` fences, the code is the content of the
// Python blocks (```python, ```py, ```python3, or unlabelled), joined by a blank line,
// and the explanation is everything outside them. Blocks in other languages (```bash)
// stay in the explanation, fences included, unless there is no Python block at all,
// in which case every block is code. An unterminated fence (output cut by max_tokens)
// runs to the end.
//
// Without fences, lines are classified one by one: Python-looking lines (keywords,
// calls, assignments, comments, decorators, indented lines, closing brackets) are code,
// the others prose; blank lines go with the line before them. The split is a text
// heuristic, reported as such; no score is derived from it.
func splitCode(text string) (code, explanation string) {
	if strings.Contains(text, "```") {
		return splitFenced(text)
	}
	return splitLines(text)
}

// fenceBlock is one fenced block: its language tag and content.
type fenceBlock struct {
	lang, body, raw string
}

func splitFenced(text string) (code, explanation string) {
	var (
		blocks []fenceBlock
		prose  []string // prose segments, with a placeholder index for each block
		order  []int    // -1: prose segment i; k ≥ 0: block k
	)
	rest := text
	for {
		i := strings.Index(rest, "```")
		if i < 0 {
			prose = append(prose, rest)
			order = append(order, -1)
			break
		}
		prose = append(prose, rest[:i])
		order = append(order, -1)
		after := rest[i+3:]
		nl := strings.IndexByte(after, '\n')
		lang, body := "", ""
		if nl < 0 { // "```python" with nothing after it
			lang, after = strings.TrimSpace(after), ""
		} else {
			lang, after = strings.TrimSpace(after[:nl]), after[nl+1:]
		}
		end := strings.Index(after, "```")
		if end < 0 {
			body, rest = after, ""
		} else {
			body, rest = after[:end], after[end+3:]
			rest = strings.TrimPrefix(rest, "\n")
		}
		raw := "```" + lang + "\n" + body + "```"
		blocks = append(blocks, fenceBlock{lang: strings.ToLower(lang), body: strings.TrimRight(body, "\n"), raw: raw})
		order = append(order, len(blocks)-1)
		if end < 0 {
			break
		}
	}
	python := func(b fenceBlock) bool {
		switch b.lang {
		case "", "python", "py", "python3", "py3":
			return true
		}
		return false
	}
	anyPython := false
	for _, b := range blocks {
		anyPython = anyPython || python(b)
	}
	var codeParts, expl []string
	pi := 0
	for _, o := range order {
		if o < 0 {
			if seg := strings.Trim(prose[pi], "\n"); strings.TrimSpace(seg) != "" {
				expl = append(expl, seg)
			}
			pi++
			continue
		}
		b := blocks[o]
		if python(b) || !anyPython {
			if strings.TrimSpace(b.body) != "" {
				codeParts = append(codeParts, b.body)
			}
			continue
		}
		expl = append(expl, b.raw)
	}
	return strings.Join(codeParts, "\n\n"), tidyProse(strings.Join(expl, "\n"))
}

// codeLine matches lines that look like Python.
var codeLine = regexp.MustCompile(`^(?:` +
	`(?:def|class|import|from|if|elif|else|for|while|try|except|finally|with|return|yield|raise|assert|` +
	`pass|break|continue|global|nonlocal|del|lambda|async|await|match|case)\b` +
	`|@\w|#|[\])}]` +
	`|[A-Za-z_][\w.]*(?:\[[^\]]*\])?\s*(?:[-+*/%&|^]|//|\*\*)?=[^=]` + // assignment
	`|[A-Za-z_][\w.]*\(.*\)\s*$` + // a call on its own
	`|(?:"""|''')` +
	`|>>>)`)

func splitLines(text string) (code, explanation string) {
	var codeB, proseB []string
	lastCode := false
	for _, line := range strings.Split(text, "\n") {
		trimmed := strings.TrimSpace(line)
		switch {
		case trimmed == "":
			if lastCode {
				codeB = append(codeB, "")
			} else {
				proseB = append(proseB, "")
			}
		case isIndented(line) && lastCode, codeLine.MatchString(trimmed):
			codeB = append(codeB, strings.TrimRight(line, " \t\r"))
			lastCode = true
		default:
			proseB = append(proseB, trimmed)
			lastCode = false
		}
	}
	return strings.Trim(strings.Join(codeB, "\n"), "\n"), tidyProse(strings.Join(proseB, "\n"))
}

func isIndented(line string) bool {
	return strings.HasPrefix(line, " ") || strings.HasPrefix(line, "\t")
}

// runsOfBlank collapses three or more newlines.
var runsOfBlank = regexp.MustCompile(`\n{3,}`)

// tidyProse trims the explanation and collapses runs of blank lines.
func tidyProse(s string) string {
	return strings.TrimSpace(runsOfBlank.ReplaceAllString(s, "\n\n"))
}
