package vllm

import (
	"bufio"
	"bytes"
	"errors"
	"io"
	"sync"
)

// DefaultMaxLine is the default limit of one SSE line. vLLM puts a whole chunk on one
// line, and a chunk with logprobs can pass 1 MiB; anything past 8 MiB is garbage.
const DefaultMaxLine = 8 << 20

// readBufSize is the Decoder's read buffer. A vLLM chunk line is ~200–400 bytes, so
// 4 KiB holds many; longer lines spill into Decoder.line. (It was 32 KiB: 28 KiB more
// garbage per upstream request and 28 KiB more live memory per open stream.)
const readBufSize = 4 << 10

// Decoder reads Server-Sent Events and returns the data of each event. It follows the
// SSE rules vLLM and proxies in front of it actually exercise: LF or CRLF line ends,
// blank keep-alive lines, `:` comments, `event:`/`id:`/`retry:` fields (ignored), several
// `data:` lines joined by "\n", and a last event without its blank line at EOF (its
// complete lines are dispatched; a last line without LF is dropped as cut off).
type Decoder struct {
	r       *bufio.Reader
	maxLine int
	line    []byte // spill buffer for lines longer than the bufio buffer
	data    []byte // data of the event being assembled
	hasData bool
}

// NewDecoder returns a Decoder reading r with lines up to maxLine bytes
// (DefaultMaxLine when maxLine <= 0).
func NewDecoder(r io.Reader, maxLine int) *Decoder {
	if maxLine <= 0 {
		maxLine = DefaultMaxLine
	}
	br := readers.Get().(*bufio.Reader)
	br.Reset(r)
	return &Decoder{r: br, maxLine: maxLine}
}

// readers holds the read buffers of ended Decoders (Release): one 4 KiB buffer per
// upstream request was the gateway's largest allocation (16 % of its bytes at 64
// one-shot requests in flight; docs/performance.md).
var readers = sync.Pool{New: func() any { return bufio.NewReaderSize(nil, readBufSize) }}

// Release gives the read buffer back for another Decoder. Afterwards Next returns
// io.EOF and Buffered false. Call it from the goroutine that reads, when nothing more
// will be read; a Decoder never released leaves its buffer to the collector.
func (d *Decoder) Release() {
	if d.r != nil {
		d.r.Reset(nil)
		readers.Put(d.r)
		d.r = nil
	}
}

// Next returns the data of the next event. The slice is valid until the next call.
// At the end of input it returns io.EOF; a line over the limit returns ErrLineTooLong.
func (d *Decoder) Next() ([]byte, error) {
	d.data = d.data[:0]
	d.hasData = false
	for {
		line, err := d.readLine()
		if err != nil {
			if errors.Is(err, io.EOF) && d.hasData {
				return d.data, nil // last event without its terminating blank line
			}
			return nil, err
		}
		if len(line) == 0 {
			if d.hasData {
				return d.data, nil
			}
			continue // keep-alive
		}
		if line[0] == ':' {
			continue // comment
		}
		field, value := line, []byte(nil)
		if i := bytes.IndexByte(line, ':'); i >= 0 {
			field, value = line[:i], line[i+1:]
			if len(value) > 0 && value[0] == ' ' {
				value = value[1:]
			}
		}
		if string(field) != "data" {
			continue // event, id, retry and unknown fields
		}
		if d.hasData {
			d.data = append(d.data, '\n')
		}
		d.data = append(d.data, value...)
		d.hasData = true
	}
}

// Buffered reports whether a whole event with data (its blank line included) is in
// the read buffer, so that Next returns it without reading from the connection. Events
// without data (comments, keep-alives) do not count: Next skips them and reads on.
func (d *Decoder) Buffered() bool {
	if d.r == nil {
		return false
	}
	b, _ := d.r.Peek(d.r.Buffered())
	data := false
	for {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			return false
		}
		line := bytes.TrimSuffix(b[:i], []byte{'\r'})
		b = b[i+1:]
		switch {
		case len(line) == 0:
			if data {
				return true
			}
		case bytes.HasPrefix(line, []byte("data:")) || string(line) == "data":
			data = true
		}
	}
}

// readLine returns one line without its LF or CRLF.
func (d *Decoder) readLine() ([]byte, error) {
	if d.r == nil {
		return nil, io.EOF // released
	}
	frag, err := d.r.ReadSlice('\n')
	var line []byte
	switch {
	case err == nil:
		line = frag
	case errors.Is(err, bufio.ErrBufferFull):
		d.line = append(d.line[:0], frag...)
		for errors.Is(err, bufio.ErrBufferFull) {
			if len(d.line) > d.maxLine {
				return nil, ErrLineTooLong
			}
			frag, err = d.r.ReadSlice('\n')
			d.line = append(d.line, frag...)
		}
		if err != nil {
			return nil, err // cut off (EOF) or failed inside a long line
		}
		line = d.line
	default:
		// A final line without LF was cut off: drop it, as SSE drops an event the
		// stream ended inside of. A read error mid-line is not a line either.
		return nil, err
	}
	if len(line) > d.maxLine {
		return nil, ErrLineTooLong
	}
	line = bytes.TrimSuffix(line, []byte{'\n'})
	line = bytes.TrimSuffix(line, []byte{'\r'})
	return line, nil
}
