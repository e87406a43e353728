package vllm

import "bytes"

// choices reads the choices array into d (choice 0 only).
func (s *scanner) choices(d *Delta) bool {
	d.Text, d.FinishReason = "", "" // a repeated key replaces, as in encoding/json
	if s.null() {
		return true
	}
	if !s.consume('[') {
		return false
	}
	if s.consume(']') {
		return true
	}
	for {
		if !s.choice(d) {
			return false
		}
		if s.consume(',') {
			continue
		}
		return s.consume(']')
	}
}

func (s *scanner) choice(d *Delta) bool {
	if !s.consume('{') {
		return false
	}
	var text, content, finish string
	index := 0
	if !s.consume('}') {
		for {
			key, ok := s.key()
			if !ok {
				return false
			}
			switch string(key) {
			case "index":
				if index, ok = s.int(); !ok {
					return false
				}
			case "text":
				if !s.strKeep(&text) {
					return false
				}
			case "finish_reason":
				if finish, ok = s.str(); !ok {
					return false
				}
			case "delta":
				if !s.delta(&content) {
					return false
				}
			default:
				if foldsTo(key, "index", "text", "finish_reason", "delta") || !s.skip() {
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
	}
	if index == 0 {
		d.Text = text + content
		if finish != "" {
			d.FinishReason = finish
		}
	}
	return true
}

// delta reads a chat delta's content into *content. Like encoding/json, null (for the
// delta or its content) leaves *content as it was.
func (s *scanner) delta(content *string) bool {
	if s.null() {
		return true
	}
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		return true
	}
	for {
		key, ok := s.key()
		if !ok {
			return false
		}
		if string(key) == "content" {
			if !s.strKeep(content) {
				return false
			}
		} else if foldsTo(key, "content") || !s.skip() {
			return false
		}
		if s.consume(',') {
			continue
		}
		return s.consume('}')
	}
}

// strKeep reads a string into *dst; null leaves *dst unchanged (encoding/json's rule
// for non-pointer strings).
func (s *scanner) strKeep(dst *string) bool {
	if s.null() {
		return true
	}
	v, ok := s.str()
	if ok {
		*dst = v
	}
	return ok
}

func (s *scanner) usage(u *Usage) bool {
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		return true
	}
	for {
		key, ok := s.key()
		if !ok {
			return false
		}
		switch string(key) {
		case "prompt_tokens":
			u.PromptTokens, ok = s.int()
		case "completion_tokens":
			u.CompletionTokens, ok = s.int()
		case "total_tokens":
			u.TotalTokens, ok = s.int()
		default:
			ok = !foldsTo(key, "prompt_tokens", "completion_tokens", "total_tokens") && s.skip()
		}
		if !ok {
			return false
		}
		if s.consume(',') {
			continue
		}
		return s.consume('}')
	}
}

// skip passes over one value of any type. Strings must be well formed; nested
// containers are matched by depth (their contents are checked only loosely, so a
// doubtful document falls back to encoding/json via the literal checks below).
func (s *scanner) skip() bool {
	s.ws()
	if s.i >= len(s.b) {
		return false
	}
	switch c := s.b[s.i]; {
	case c == '"':
		raw, _, ok := s.rawString()
		return ok && validUTF8(raw)
	case c == '{' || c == '[':
		return s.skipContainer()
	case c == 'n':
		return s.literal("null")
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == '-' || c >= '0' && c <= '9':
		return s.number()
	}
	return false
}

func (s *scanner) literal(lit string) bool {
	if len(s.b)-s.i >= len(lit) && string(s.b[s.i:s.i+len(lit)]) == lit {
		s.i += len(lit)
		return true
	}
	return false
}

// number accepts JSON's number grammar.
func (s *scanner) number() bool {
	b, i := s.b, s.i
	if i < len(b) && b[i] == '-' {
		i++
	}
	digits := func() int {
		start := i
		for i < len(b) && b[i] >= '0' && b[i] <= '9' {
			i++
		}
		return i - start
	}
	n := digits()
	if n == 0 || (n > 1 && b[i-n] == '0') {
		return false
	}
	if i < len(b) && b[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(b) && (b[i] == 'e' || b[i] == 'E') {
		i++
		if i < len(b) && (b[i] == '+' || b[i] == '-') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	s.i = i
	return true
}

// skipContainer skips an object or array by walking its values properly.
func (s *scanner) skipContainer() bool {
	if s.consume('[') {
		if s.consume(']') {
			return true
		}
		for {
			if !s.skip() {
				return false
			}
			if s.consume(',') {
				continue
			}
			return s.consume(']')
		}
	}
	if !s.consume('{') {
		return false
	}
	if s.consume('}') {
		return true
	}
	for {
		if raw, _, ok := s.rawString(); !ok || !validUTF8(raw) || !s.consume(':') || !s.skip() {
			return false
		}
		if s.consume(',') {
			continue
		}
		return s.consume('}')
	}
}

// foldsTo reports whether key matches one of names case-insensitively: encoding/json
// (the reference) matches field names that way, so such a key goes to the slow path.
func foldsTo(key []byte, names ...string) bool {
	for _, n := range names {
		if len(key) == len(n) && bytes.EqualFold(key, []byte(n)) {
			return true
		}
	}
	return false
}
