package sim

// The simulator's tokenizer: a token is an optional run of spaces or tabs glued to the
// word (letters, digits, '_', any non-ASCII byte) or single punctuation byte that
// follows it; a newline is a token of its own. Prompt and completion are counted the
// same way, so usage.completion_tokens equals the number of text chunks streamed.

// nextPiece returns the end of the token starting at s[i].
func nextPiece(s string, i int) int {
	j := i
	for j < len(s) && (s[j] == ' ' || s[j] == '\t') {
		j++
	}
	if j == len(s) {
		return j
	}
	c := s[j]
	if c == '\n' {
		if j > i {
			return j
		}
		return j + 1
	}
	if !isWord(c) {
		return j + 1
	}
	for j < len(s) && isWord(s[j]) {
		j++
	}
	return j
}

func isWord(c byte) bool {
	return c >= 0x80 || c == '_' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z'
}

// countTokens counts the tokens of s.
func countTokens(s string) int {
	n := 0
	for i := 0; i < len(s); i = nextPiece(s, i) {
		n++
	}
	return n
}

// appendPieces appends the tokens of s to dst.
func appendPieces(dst []string, s string) []string {
	for i := 0; i < len(s); {
		j := nextPiece(s, i)
		dst = append(dst, s[i:j])
		i = j
	}
	return dst
}

// CountTokens counts the tokens of s as the simulator splits text (its usage counts
// these): a test that received text from it knows how many tokens that was.
func CountTokens(s string) int { return countTokens(s) }
