package web

import "strings"

// stopMarkers are strings that end a stream in the original clients
// (docs/compatibility.md, "VS Code extension"): the extension stops reading at a line
// containing one of the first four and cuts the rendered text at the others. A model
// that emits one would lose the rest of its answer in the client anyway, so HAPA ends
// the output at the first occurrence, before the marker, on every code route (SSE and
// one-shot alike, so both return the same text). The price: Python source that contains
// one of these strings literally (an HTML string "</s>", say) is cut there.
var stopMarkers = []string{
	"[END_OF_GENERATION]",
	"<|EOT|>",
	"# --- Generation Complete ---",
	"</c>",
	"<|endoftext|>",
	"<|im_end|>",
	"</s>",
	"[DONE]",
}

// markerCut removes stop markers from a text that arrives in pieces. It holds back a
// tail that could be the start of a marker until the next piece decides it.
type markerCut struct {
	held string
	cut  bool
}

// push returns the text that is safe to emit now; cut is true when a marker was found
// (the text before it is returned and everything after is dropped).
func (m *markerCut) push(s string) (out string, cut bool) {
	if m.cut {
		return "", true
	}
	buf := s
	if m.held != "" {
		buf = m.held + s
		m.held = ""
	}
	if i := firstMarker(buf); i >= 0 {
		m.cut = true
		return buf[:i], true
	}
	n := partialMarkerTail(buf)
	m.held = buf[len(buf)-n:]
	return buf[:len(buf)-n], false
}

// flush returns the held-back tail at the end of the stream.
func (m *markerCut) flush() string {
	if m.cut {
		return ""
	}
	h := m.held
	m.held = ""
	return h
}

// cutMarkers cuts a whole text at its first marker.
func cutMarkers(s string) string {
	if i := firstMarker(s); i >= 0 {
		return s[:i]
	}
	return s
}

// firstMarker returns the index of the earliest marker in s, or -1.
func firstMarker(s string) int {
	best := -1
	if !strings.ContainsAny(s, "[<#") {
		return -1
	}
	for _, mk := range stopMarkers {
		if i := strings.Index(s, mk); i >= 0 && (best < 0 || i < best) {
			best = i
		}
	}
	return best
}

// partialMarkerTail is the length of the longest suffix of s that is a proper prefix
// of a marker. Markers are ASCII, so the cut never splits a UTF-8 sequence.
func partialMarkerTail(s string) int {
	longest := 0
	for _, mk := range stopMarkers {
		max := min(len(mk)-1, len(s))
		for n := max; n > longest; n-- {
			if s[len(s)-n] == mk[0] && s[len(s)-n:] == mk[:n] {
				longest = n
				break
			}
		}
	}
	return longest
}
