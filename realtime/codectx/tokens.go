package codectx

// The token estimate (docs/vllm.md, "Context budget"): the families' BPE tokenizers
// average 3 to 4 bytes per token on source code, so a budget in tokens is turned into
// bytes at 3.5 bytes per token. It is an estimate for sizing; the guard against the
// model's context length does not rely on it (BuildFIM counts one token per byte there).

// EstimateTokens estimates the tokens of n bytes of code: n / 3.5, rounded up.
func EstimateTokens(n int) int { return (2*n + 6) / 7 }

// BudgetBytes is the bytes a budget of tokens allows: tokens × 3.5.
func BudgetBytes(tokens int) int { return tokens * 7 / 2 }

// Identifiers are compared by a 64-bit hash (deterministic; two distinct identifiers
// of one request colliding is not a practical concern, and would only nudge a score).
// The hash packs eight case-folded bytes into a word and mixes the word in with one
// multiplication (FNV-1a's prime), so the scanner's per-byte work is a table lookup
// and a shift.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

// identAt hashes the identifier starting at s[i] (ident[s[i]] != 0) and returns its
// hash and end.
func identAt(s string, i int) (h uint64, end int) {
	h = fnvOffset
	var w uint64
	n := 0
	for ; i < len(s); i++ {
		c := ident[s[i]]
		if c == 0 {
			break
		}
		w = w<<8 | uint64(c)
		if n++; n&7 == 0 {
			h = (h ^ w) * fnvPrime
			w = 0
		}
	}
	return (h ^ w ^ uint64(n)<<56) * fnvPrime, i
}

// byte classes of the identifier scanner.
const (
	classOther = iota
	classStart // a letter, '_' or a byte of a multi-byte UTF-8 sequence
	classDigit
	classNewline
)

// classes maps a byte to its class; ident maps a byte that continues an identifier to
// itself, ASCII case folded, and every other byte to 0 (one lookup per byte in the
// scanner's inner loop).
var classes, ident = byteTables()

func byteTables() (c [256]uint8, id [256]byte) {
	for i := range 256 {
		b := byte(i)
		switch {
		case b >= 'a' && b <= 'z', b == '_', b >= 0x80:
			c[i], id[i] = classStart, b
		case b >= 'A' && b <= 'Z':
			c[i], id[i] = classStart, b+'a'-'A'
		case b >= '0' && b <= '9':
			c[i], id[i] = classDigit, b
		case b == '\n':
			c[i] = classNewline
		}
	}
	return c, id
}

// minTermLen is the shortest identifier that counts: one-letter names (i, x, t) match
// everywhere and say nothing.
const minTermLen = 2

// scanTerms calls fn with every identifier of s of at least minTermLen bytes, in order.
func scanTerms(s string, fn func(ident string)) {
	for i := 0; i < len(s); {
		if classes[s[i]] != classStart {
			i++
			continue
		}
		_, j := identAt(s, i)
		if j-i >= minTermLen {
			fn(s[i:j])
		}
		i = j
	}
}
