package sim

import (
	"strconv"
	"unicode/utf8"
)

// Streaming chunks are written by hand into a reused buffer: the simulator must push
// thousands of requests per second through a benchmark without its JSON costing more
// than the gateway under test. The byte layout follows vLLM's pydantic output.

// chunkWriter builds the SSE events of one response.
type chunkWriter struct {
	buf     []byte
	id      string
	created int64
	model   string
	chat    bool

	// continuous (stream_options.continuous_usage_stats) puts the running usage on
	// every chunk: prompt, and completion as the tokens sent so far.
	continuous bool
	prompt     int
	completion int
}

func (c *chunkWriter) head() {
	c.buf = append(c.buf[:0], `data: {"id":"`...)
	c.buf = append(c.buf, c.id...)
	if c.chat {
		c.buf = append(c.buf, `","object":"chat.completion.chunk","created":`...)
	} else {
		c.buf = append(c.buf, `","object":"text_completion","created":`...)
	}
	c.buf = strconv.AppendInt(c.buf, c.created, 10)
	c.buf = append(c.buf, `,"model":`...)
	c.buf = appendJSONString(c.buf, c.model)
	c.buf = append(c.buf, `,"choices":[`...)
}

// role is the chat stream's first chunk.
func (c *chunkWriter) role() []byte {
	c.head()
	c.buf = append(c.buf, `{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":null}]`...)
	return c.tail(false)
}

// text is one token chunk; finish is "" while generating; stop is the matched stop
// string, if any.
func (c *chunkWriter) text(t, finish, stop string) []byte {
	c.head()
	if c.chat {
		c.buf = append(c.buf, `{"index":0,"delta":{"content":`...)
		c.buf = appendJSONString(c.buf, t)
		c.buf = append(c.buf, `},"logprobs":null,"finish_reason":`...)
		c.buf = appendNullable(c.buf, finish)
		if finish != "" {
			c.buf = append(c.buf, `,"stop_reason":`...)
			c.buf = appendNullable(c.buf, stop)
		}
		c.buf = append(c.buf, "}]"...)
		return c.tail(false)
	}
	c.buf = append(c.buf, `{"index":0,"text":`...)
	c.buf = appendJSONString(c.buf, t)
	c.buf = append(c.buf, `,"logprobs":null,"finish_reason":`...)
	c.buf = appendNullable(c.buf, finish)
	c.buf = append(c.buf, `,"stop_reason":`...)
	c.buf = appendNullable(c.buf, stop)
	c.buf = append(c.buf, "}]"...)
	return c.tail(true)
}

// tail closes a choice chunk: the running usage when continuous, else "usage":null
// where vLLM writes it (completions, not chat).
func (c *chunkWriter) tail(nullUsage bool) []byte {
	switch {
	case c.continuous:
		c.buf = append(c.buf, `,"usage":`...)
		c.buf = c.usageObject(c.prompt, c.completion)
	case nullUsage:
		c.buf = append(c.buf, `,"usage":null`...)
	}
	c.buf = append(c.buf, "}\n\n"...)
	return c.buf
}

func (c *chunkWriter) usageObject(prompt, completion int) []byte {
	c.buf = append(c.buf, `{"prompt_tokens":`...)
	c.buf = strconv.AppendInt(c.buf, int64(prompt), 10)
	c.buf = append(c.buf, `,"total_tokens":`...)
	c.buf = strconv.AppendInt(c.buf, int64(prompt+completion), 10)
	c.buf = append(c.buf, `,"completion_tokens":`...)
	c.buf = strconv.AppendInt(c.buf, int64(completion), 10)
	if !c.chat {
		c.buf = append(c.buf, `,"prompt_tokens_details":null`...)
	}
	return append(c.buf, '}')
}

// usage is the include_usage chunk: no choices.
func (c *chunkWriter) usage(prompt, completion int) []byte {
	c.head()
	c.buf = append(c.buf, `],"usage":`...)
	c.buf = c.usageObject(prompt, completion)
	c.buf = append(c.buf, "}\n\n"...)
	return c.buf
}

func appendNullable(b []byte, s string) []byte {
	if s == "" {
		return append(b, "null"...)
	}
	return appendJSONString(b, s)
}

// appendJSONString appends s as a JSON string; non-ASCII stays raw UTF-8 as in
// pydantic's output, invalid UTF-8 becomes U+FFFD.
func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); {
		c := s[i]
		if c >= 0x80 {
			r, size := utf8.DecodeRuneInString(s[i:])
			if r == utf8.RuneError && size == 1 {
				b = append(b, `\ufffd`...)
			} else {
				b = append(b, s[i:i+size]...)
			}
			i += size
			continue
		}
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c == '\n':
			b = append(b, '\\', 'n')
		case c == '\r':
			b = append(b, '\\', 'r')
		case c == '\t':
			b = append(b, '\\', 't')
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
		i++
	}
	return append(b, '"')
}
