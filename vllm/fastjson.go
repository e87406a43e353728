package vllm

import (
	"unicode/utf16"
	"unicode/utf8"
)

// fastChunk decodes the common completion/chat chunk without encoding/json: it walks
// the object once, reads choices[0].text / .delta.content / .finish_reason and usage,
// and skips everything else. It allocates only the text string. Anything it does not
// fully understand (errors, escapes in keys, odd numbers, invalid UTF-8, trailing
// bytes) returns ok=false and the caller falls back to encoding/json, which is the
// reference: a fuzz test checks both agree whenever the fast path answers.
func fastChunk(data []byte, d *Delta, usage *Usage) (ok bool) {
	s := scanner{b: data}
	*d = Delta{}
	hasUsage := false
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		return s.end()
	}
	for {
		key, ok := s.key()
		if !ok {
			return false
		}
		switch string(key) {
		case "choices":
			if !s.choices(d) {
				return false
			}
		case "usage":
			if s.null() {
				hasUsage = false
				break
			}
			var u Usage
			if !s.usage(&u) {
				return false
			}
			*usage, hasUsage = u, true
		case "error", "object", "message":
			// possibly an error payload: the slow path decides
			if string(key) != "object" {
				return false
			}
			v, esc, ok := s.rawString()
			if !ok || esc || string(v) == "error" {
				return false
			}
		default:
			if foldsTo(key, "choices", "usage", "error", "object", "message", "type", "param", "code") || !s.skip() {
				return false
			}
		}
		if s.consume(',') {
			continue
		}
		if !s.consume('}') {
			return false
		}
		break
	}
	if hasUsage && usage.PromptTokens+usage.CompletionTokens+usage.TotalTokens > 0 {
		d.Usage = usage
	}
	return s.end()
}

type scanner struct {
	b []byte
	i int
}

func (s *scanner) ws() {
	for s.i < len(s.b) && (s.b[s.i] == ' ' || s.b[s.i] == '\n' || s.b[s.i] == '\r' || s.b[s.i] == '\t') {
		s.i++
	}
}

func (s *scanner) consume(c byte) bool {
	s.ws()
	if s.i < len(s.b) && s.b[s.i] == c {
		s.i++
		return true
	}
	return false
}

func (s *scanner) end() bool { s.ws(); return s.i == len(s.b) }

func (s *scanner) null() bool {
	s.ws()
	if len(s.b)-s.i >= 4 && string(s.b[s.i:s.i+4]) == "null" {
		s.i += 4
		return true
	}
	return false
}

// key reads `"name":` for a name without escapes. Callers switch on string(key),
// which the compiler compares without allocating.
func (s *scanner) key() ([]byte, bool) {
	raw, esc, ok := s.rawString()
	if !ok || esc || !s.consume(':') {
		return nil, false
	}
	return raw, true
}

// rawString reads a JSON string and returns its bytes between the quotes.
func (s *scanner) rawString() (raw []byte, escaped, ok bool) {
	if !s.consume('"') {
		return nil, false, false
	}
	start := s.i
	for s.i < len(s.b) {
		c := s.b[s.i]
		switch {
		case c == '"':
			raw = s.b[start:s.i]
			s.i++
			return raw, escaped, true
		case c == '\\':
			escaped = true
			if s.i+1 >= len(s.b) {
				return nil, false, false
			}
			switch s.b[s.i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				s.i += 2
			case 'u':
				if _, ok := hex4(s.b[s.i+2:]); !ok {
					return nil, false, false
				}
				s.i += 6
			default:
				return nil, false, false
			}
		case c < 0x20:
			return nil, false, false
		default:
			s.i++
		}
	}
	return nil, false, false
}

// str reads a string value (null reads as "").
func (s *scanner) str() (string, bool) {
	if s.null() {
		return "", true
	}
	raw, esc, ok := s.rawString()
	if !ok {
		return "", false
	}
	if !esc {
		if !utf8.Valid(raw) {
			return "", false
		}
		return string(raw), true
	}
	return unescape(raw)
}

// unescape decodes a JSON string body with escapes.
func unescape(raw []byte) (string, bool) {
	out := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			out = append(out, c)
			i++
			continue
		}
		if i+1 >= len(raw) {
			return "", false
		}
		switch raw[i+1] {
		case '"', '\\', '/':
			out = append(out, raw[i+1])
		case 'b':
			out = append(out, '\b')
		case 'f':
			out = append(out, '\f')
		case 'n':
			out = append(out, '\n')
		case 'r':
			out = append(out, '\r')
		case 't':
			out = append(out, '\t')
		case 'u':
			r, ok := hex4(raw[i+2:])
			if !ok {
				return "", false
			}
			i += 6
			if utf16.IsSurrogate(r) {
				r2, ok2 := rune(0), false
				if len(raw) >= i+6 && raw[i] == '\\' && raw[i+1] == 'u' {
					r2, ok2 = hex4(raw[i+2:])
				}
				if dec := utf16.DecodeRune(r, r2); ok2 && dec != utf8.RuneError {
					r = dec
					i += 6
				} else {
					r = utf8.RuneError
				}
			}
			out = utf8.AppendRune(out, r)
			continue
		default:
			return "", false
		}
		i += 2
	}
	if !utf8.Valid(out) {
		return "", false
	}
	return string(out), true
}

func hex4(b []byte) (rune, bool) {
	if len(b) < 4 {
		return 0, false
	}
	var r rune
	for _, c := range b[:4] {
		switch {
		case c >= '0' && c <= '9':
			r = r<<4 | rune(c-'0')
		case c >= 'a' && c <= 'f':
			r = r<<4 | rune(c-'a'+10)
		case c >= 'A' && c <= 'F':
			r = r<<4 | rune(c-'A'+10)
		default:
			return 0, false
		}
	}
	return r, true
}

// int reads a non-negative integer without exponent or fraction.
func (s *scanner) int() (int, bool) {
	s.ws()
	start, n := s.i, 0
	for s.i < len(s.b) && s.b[s.i] >= '0' && s.b[s.i] <= '9' && s.i-start < 15 {
		n = n*10 + int(s.b[s.i]-'0')
		s.i++
	}
	if s.i == start || (s.b[start] == '0' && s.i-start > 1) {
		return 0, false
	}
	if s.i < len(s.b) && (s.b[s.i] == '.' || s.b[s.i] == 'e' || s.b[s.i] == 'E' || s.b[s.i] >= '0' && s.b[s.i] <= '9') {
		return 0, false
	}
	return n, true
}

func validUTF8(b []byte) bool { return utf8.Valid(b) }
