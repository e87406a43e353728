package web

import (
	"errors"
	"net/http"
	"strconv"
	"time"
	"unicode/utf8"
)

// SSE framing shared by the streaming code routes (docs/compatibility.md, "SSE
// framing"). Every event is one `data: <json>\n\n` written and flushed in one Write, so
// a reader that drops a partial line (the landing page) never sees half an event. There
// are no `event:`, `id:` or `:` comment lines: the extension appends any non-JSON line
// to the code. Keep-alive is a bare "\n", which both client parsers skip.

// sseKeepAlive is the longest silence on an open stream before a bare "\n" is sent.
const sseKeepAlive = 15 * time.Second

// sseDone is the end-of-stream line both clients recognise.
var sseDone = []byte("data: [DONE]\n\n")

// sseKeepAliveLine is the keep-alive write.
var sseKeepAliveLine = []byte("\n")

// sseWriter writes SSE events to one response. It is used by one goroutine.
type sseWriter struct {
	w       http.ResponseWriter
	rc      *http.ResponseController
	now     func() time.Time
	buf     []byte // reused event buffer
	seq     int    // sequence number of the next event
	started bool   // the header went out
	err     error  // first write error; later writes are skipped
}

func newSSEWriter(w http.ResponseWriter, now func() time.Time) *sseWriter {
	return &sseWriter{w: w, rc: http.NewResponseController(w), now: now, buf: make([]byte, 0, 512)}
}

// start sends the status and the SSE headers (once).
func (s *sseWriter) start(enhanced bool) {
	if s.started {
		return
	}
	s.started = true
	h := s.w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("Cache-Control", "no-cache")
	h.Set("X-Accel-Buffering", "no")
	h.Set("X-Enhanced-Mode", strconv.FormatBool(enhanced))
	h.Del("Content-Length")
	s.w.WriteHeader(http.StatusOK)
	s.flush()
}

// write sends b in one Write and flushes it.
func (s *sseWriter) write(b []byte) error {
	if s.err != nil {
		return s.err
	}
	if _, err := s.w.Write(b); err != nil {
		s.err = err
		return err
	}
	return s.flush()
}

// flush pushes the written bytes to the client. A writer that cannot flush (a
// middleware that hides Flush and Unwrap) is not an error: the events then arrive
// late but whole; TestCodeStreamWholeEventsPerWrite guards the real chain.
func (s *sseWriter) flush() error {
	if err := s.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) && s.err == nil {
		s.err = err
	}
	return s.err
}

// keepAlive writes the bare newline.
func (s *sseWriter) keepAlive() error { return s.write(sseKeepAliveLine) }

// doneLine writes the final `data: [DONE]` line.
func (s *sseWriter) doneLine() error { return s.write(sseDone) }

// begin starts an event: `data: {"type":"<typ>"`. The caller appends fields and calls
// end.
func (s *sseWriter) begin(typ string) {
	s.buf = append(s.buf[:0], `data: {"type":`...)
	s.buf = appendJSONString(s.buf, typ)
}

// field appends `,"name":` to the event being built.
func (s *sseWriter) field(name string) {
	s.buf = append(s.buf, ',', '"')
	s.buf = append(s.buf, name...)
	s.buf = append(s.buf, '"', ':')
}

// stamp appends the sequence number (and advances it) and the timestamp.
func (s *sseWriter) stamp() {
	s.field("sequence")
	s.buf = strconv.AppendInt(s.buf, int64(s.seq), 10)
	s.seq++
	s.field("timestamp")
	s.buf = append(s.buf, '"')
	s.buf = s.now().UTC().AppendFormat(s.buf, "2006-01-02T15:04:05.000Z07:00")
	s.buf = append(s.buf, '"')
}

// end closes the event and writes it.
func (s *sseWriter) end() error {
	s.buf = append(s.buf, "}\n\n"...)
	return s.write(s.buf)
}

// raw appends `,"name":<v>` where v is already encoded JSON.
func (s *sseWriter) raw(name string, v []byte) {
	s.field(name)
	s.buf = append(s.buf, v...)
}

// text writes one text event: {"type":typ,"content":d,"text":d,"sequence":n,
// "timestamp":…}, with "is_complete":false when incomplete is set (extension route).
func (s *sseWriter) text(typ, d string, incomplete bool) error {
	s.begin(typ)
	s.field("content")
	s.buf = appendJSONString(s.buf, d)
	s.field("text")
	s.buf = appendJSONString(s.buf, d)
	s.stamp()
	if incomplete {
		s.buf = append(s.buf, `,"is_complete":false`...)
	}
	return s.end()
}

const hexDigits = "0123456789abcdef"

// appendJSONString appends s as a JSON string. Invalid UTF-8 becomes U+FFFD; U+2028
// and U+2029 are escaped (JavaScript parsers of old treated them as line breaks);
// HTML characters stay raw, so code reads as written.
func appendJSONString(b []byte, s string) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hexDigits[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
