package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"strings"
	"testing"
)

// This file holds SSE parsers that behave like the original clients
// (docs/compatibility.md, "VS Code extension", §9.2), so the tests prove those clients
// reconstruct the generated text unchanged.

// extChunk is what the extension's StreamingCodeGenerator hands to its sidebar.
type extChunk struct {
	Type    string
	Content string
}

// extStopContains end the extension's stream when a line contains them.
var extStopContains = []string{"[END_OF_GENERATION]", "<|EOT|>", "# --- Generation Complete ---", "</c>"}

// extCut are cut from the rendered text by the sidebar.
var extCut = []string{"\n# --- Generation Complete ---", "<|endoftext|>", "<|im_end|>", "</s>", "[DONE]"}

// extResult is the parse of one extension stream.
type extResult struct {
	chunks  []extChunk
	text    string // what the sidebar renders: token/code contents, cut
	sawDone bool   // the stream ended at a [DONE] line
	errors  []string
}

// parseExtension reads r with reads of at most bufSize bytes, following the
// extension's rules: buffer bytes, split on "\n", keep the trailing partial line,
// trim, strip "data: ", stop at a "[DONE]" line or a line containing a stop marker,
// skip empty lines and bare "data:", JSON with "text" → chunk{type||"code", text},
// other JSON needs type and content, non-JSON lines are appended verbatim as code.
func parseExtension(t testing.TB, r io.Reader, bufSize int) extResult {
	t.Helper()
	var res extResult
	var pending []byte
	buf := make([]byte, bufSize)
	handle := func(line string) bool { // false: stop
		line = strings.TrimSpace(line)
		line = strings.TrimPrefix(line, "data: ")
		if line == "[DONE]" {
			res.sawDone = true
			return false
		}
		for _, m := range extStopContains {
			if strings.Contains(line, m) {
				return false
			}
		}
		if line == "" || line == "data:" {
			return true
		}
		var obj map[string]any
		if err := json.Unmarshal([]byte(line), &obj); err != nil {
			res.chunks = append(res.chunks, extChunk{Type: "code", Content: line})
			return true
		}
		if text, ok := obj["text"].(string); ok {
			typ, _ := obj["type"].(string)
			if typ == "" {
				typ = "code"
			}
			res.chunks = append(res.chunks, extChunk{Type: typ, Content: text})
			return true
		}
		typ, ok1 := obj["type"].(string)
		content, ok2 := obj["content"].(string)
		if ok1 && ok2 {
			res.chunks = append(res.chunks, extChunk{Type: typ, Content: content})
		}
		return true
	}
loop:
	for {
		n, err := r.Read(buf)
		pending = append(pending, buf[:n]...)
		for {
			i := bytes.IndexByte(pending, '\n')
			if i < 0 {
				break
			}
			line := string(pending[:i])
			pending = pending[i+1:]
			if !handle(line) {
				break loop
			}
		}
		if errors.Is(err, io.EOF) {
			if len(pending) > 0 {
				handle(string(pending))
			}
			break
		}
		if err != nil {
			t.Fatalf("extension parser: read: %v", err)
		}
	}
	var b strings.Builder
	for _, c := range res.chunks {
		switch c.Type {
		case "token", "code":
			b.WriteString(c.Content)
		case "error":
			res.errors = append(res.errors, c.Content)
		}
	}
	res.text = b.String()
	for _, m := range extCut {
		if i := strings.Index(res.text, m); i >= 0 {
			res.text = res.text[:i]
		}
	}
	return res
}

// lpResult is the parse of one landing-page stream.
type lpResult struct {
	text    string
	types   []string // event types in order
	done    bool
	dropped int // partial lines discarded at the end of a read
}

// parseLandingPage follows the landing page: every read is decoded on its own and
// split into lines; lines starting with "data: " are parsed as JSON ("[DONE]"
// ignored); token/code contents are appended; done stops. A read that ends inside a
// line loses that line (the page does not buffer), and so does the rest of it at the
// start of the next read, so an event split across reads is lost: the server must
// write each event whole.
func parseLandingPage(t testing.TB, r io.Reader, bufSize int) lpResult {
	t.Helper()
	var res lpResult
	buf := make([]byte, bufSize)
	var b strings.Builder
	for !res.done {
		n, err := r.Read(buf)
		chunk := string(buf[:n])
		lines := strings.Split(chunk, "\n")
		if !strings.HasSuffix(chunk, "\n") && lines[len(lines)-1] != "" {
			res.dropped++
		}
		for _, line := range lines {
			if !strings.HasPrefix(line, "data: ") {
				continue
			}
			data := line[len("data: "):]
			if data == "[DONE]" {
				continue
			}
			var ev struct {
				Type    string `json:"type"`
				Content any    `json:"content"`
			}
			if json.Unmarshal([]byte(data), &ev) != nil {
				continue // the partial line at the end of a read
			}
			res.types = append(res.types, ev.Type)
			switch ev.Type {
			case "token", "code":
				s, _ := ev.Content.(string)
				b.WriteString(s)
			case "done":
				res.done = true
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("landing page parser: read: %v", err)
		}
	}
	res.text = b.String()
	return res
}

func TestExtensionParserRules(t *testing.T) {
	in := "data: {\"type\":\"start\",\"content\":\"\"}\n\n\n" +
		"data: {\"type\":\"token\",\"content\":\"a\",\"text\":\"a\"}\n\n" +
		"data:\n" +
		"data: {\"text\":\"b\"}\n\n" +
		"data: {\"foo\":1}\n\n" +
		"plain line\n" +
		"data: {\"type\":\"done\",\"content\":\"\"}\n\n" +
		"data: [DONE]\n\n" +
		"data: {\"type\":\"token\",\"text\":\"after\"}\n\n"
	for _, size := range []int{1, 3, 64, 4096} {
		res := parseExtension(t, strings.NewReader(in), size)
		if res.text != "abplain line" || !res.sawDone {
			t.Errorf("size %d: text %q done %v", size, res.text, res.sawDone)
		}
	}
	res := parseExtension(t, strings.NewReader("data: {\"text\":\"x</c>y\"}\n\ndata: {\"text\":\"z\"}\n\n"), 16)
	if res.text != "" || res.sawDone {
		t.Errorf("marker line: text %q", res.text)
	}
}

func TestLandingPageParserDropsSplitEvents(t *testing.T) {
	in := "data: {\"type\":\"code\",\"content\":\"hello \"}\n\ndata: {\"type\":\"code\",\"content\":\"world\"}\n\ndata: {\"type\":\"done\"}\n\n"
	if res := parseLandingPage(t, strings.NewReader(in), 4096); res.text != "hello world" || !res.done || res.dropped != 0 {
		t.Errorf("whole: %+v", res)
	}
	if res := parseLandingPage(t, strings.NewReader(in), 20); res.text == "hello world" || res.dropped == 0 {
		t.Errorf("split reads should lose events (as the page does): %+v", res)
	}
}
