package vllm_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/hapa-project/hapa/vllm"
)

// serveFile answers every request with the capture file and content type.
func serveFile(t *testing.T, name, contentType string, status int) *vllm.Client {
	t.Helper()
	body, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return serveBytes(t, body, contentType, status)
}

func serveBytes(t *testing.T, body []byte, contentType string, status int) *vllm.Client {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", contentType)
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(ts.Close)
	c, err := vllm.NewClient(vllm.ClientConfig{BaseURL: ts.URL, HTTPClient: ts.Client()})
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// collect drains s.
func collect(s *vllm.Stream) (text, finish string, usage *vllm.Usage, err error) {
	var b strings.Builder
	for s.Next() {
		d := s.Delta()
		b.WriteString(d.Text)
		if d.FinishReason != "" {
			finish = d.FinishReason
		}
		if d.Usage != nil {
			usage = d.Usage
		}
	}
	return b.String(), finish, usage, s.Err()
}

func TestDecoderCaptures(t *testing.T) {
	const sse = "text/event-stream; charset=utf-8"
	tests := []struct {
		name, file, ctype string
		status            int
		text, finish      string
		usage             *vllm.Usage
		openErr, err      error // sentinels; errAPI means any *APIError
		apiStatus         int
	}{
		{name: "completion", file: "completion.sse", ctype: sse, status: 200,
			text: "    result = []\n", finish: "length", usage: &vllm.Usage{PromptTokens: 42, CompletionTokens: 4, TotalTokens: 46}},
		{name: "chat", file: "chat.sse", ctype: sse, status: 200,
			text: "def add(a, b): ✓", finish: "stop", usage: &vllm.Usage{PromptTokens: 20, CompletionTokens: 5, TotalTokens: 25}},
		{name: "keep-alives, comments, CRLF, multi-line data", file: "keepalive.sse", ctype: sse, status: 200,
			text: "ab", finish: "stop", usage: &vllm.Usage{PromptTokens: 3, CompletionTokens: 2, TotalTokens: 5}},
		{name: "missing [DONE] after finish is fine", file: "no_done.sse", ctype: sse, status: 200,
			text: "pass", finish: "stop", usage: &vllm.Usage{PromptTokens: 9, CompletionTokens: 1, TotalTokens: 10}},
		{name: "EOF before finish", file: "truncated.sse", ctype: sse, status: 200,
			text: "for", err: vllm.ErrTruncated},
		{name: "[DONE] before finish", file: "done_without_finish.sse", ctype: sse, status: 200,
			text: "x", err: vllm.ErrTruncated},
		{name: "mid-stream error, nested", file: "midstream_error.sse", ctype: sse, status: 200,
			text: "import", err: errAPI, apiStatus: 400},
		{name: "mid-stream error, old flat inside error", file: "midstream_error_flat.sse", ctype: sse, status: 200,
			text: "x", err: errAPI, apiStatus: 500},
		{name: "404 nested", file: "error_nested.json", ctype: "application/json", status: 404,
			openErr: vllm.ErrModelNotFound, apiStatus: 404},
		{name: "400 flat context length", file: "error_flat.json", ctype: "application/json", status: 400,
			openErr: vllm.ErrContextLength, apiStatus: 400},
		{name: "401 string error", file: "error_unauthorized.json", ctype: "application/json", status: 401,
			openErr: errAPI, apiStatus: 401},
		{name: "200 with JSON error body", file: "ok_with_error.json", ctype: "application/json", status: 200,
			openErr: errAPI, apiStatus: 400},
		{name: "200 with an SSE body but JSON type", file: "completion.sse", ctype: "application/json", status: 200,
			openErr: errAPI, apiStatus: 502},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := serveFile(t, tt.file, tt.ctype, tt.status)
			s, err := c.Stream(context.Background(), vllm.Request{Model: "m", Prompt: "p"})
			if tt.openErr != nil {
				checkErr(t, err, tt.openErr, tt.apiStatus)
				return
			}
			if err != nil {
				t.Fatalf("Stream: %v", err)
			}
			defer s.Close()
			text, finish, usage, err := collect(s)
			if text != tt.text || finish != tt.finish {
				t.Errorf("got text %q finish %q, want %q %q", text, finish, tt.text, tt.finish)
			}
			if (usage == nil) != (tt.usage == nil) || usage != nil && *usage != *tt.usage {
				t.Errorf("usage %+v, want %+v", usage, tt.usage)
			}
			if tt.err == nil && err != nil {
				t.Fatalf("Err: %v", err)
			}
			if tt.err != nil {
				checkErr(t, err, tt.err, tt.apiStatus)
			}
		})
	}
}

// errAPI stands for "any *vllm.APIError" in tables.
var errAPI = errors.New("any *APIError")

func checkErr(t *testing.T, err, want error, status int) {
	t.Helper()
	if err == nil {
		t.Fatalf("err = nil, want %v", want)
	}
	var api *vllm.APIError
	if want == errAPI || status != 0 {
		if !errors.As(err, &api) {
			t.Fatalf("err = %v (%T), want *APIError", err, err)
		}
		if status != 0 && api.Status != status {
			t.Errorf("status %d, want %d (%v)", api.Status, status, err)
		}
	}
	if want != errAPI && !errors.Is(err, want) {
		t.Errorf("err = %v, want errors.Is %v", err, want)
	}
}

func TestDecoderPartialReads(t *testing.T) {
	raw, err := os.ReadFile("testdata/keepalive.sse")
	if err != nil {
		t.Fatal(err)
	}
	whole := events(t, bytes.NewReader(raw), 0)
	byByte := events(t, iotest.OneByteReader(bytes.NewReader(raw)), 0)
	if strings.Join(whole, "|") != strings.Join(byByte, "|") || len(whole) != 4 {
		t.Fatalf("whole %q\nbyte  %q", whole, byByte)
	}
}

func events(t *testing.T, r io.Reader, max int) []string {
	t.Helper()
	d := vllm.NewDecoder(r, max)
	var out []string
	for {
		data, err := d.Next()
		if errors.Is(err, io.EOF) {
			return out
		}
		if err != nil {
			t.Fatalf("Next: %v", err)
		}
		out = append(out, string(data))
	}
}

func TestDecoderLongLines(t *testing.T) {
	long := strings.Repeat("x", 3<<20) // 3 MiB of text in one chunk
	chunk := `data: {"choices":[{"index":0,"text":"` + long + `","finish_reason":"length"}]}` + "\n\ndata: [DONE]\n\n"
	t.Run("3 MiB line decodes", func(t *testing.T) {
		c := serveBytes(t, []byte(chunk), "text/event-stream", 200)
		s, err := c.Stream(context.Background(), vllm.Request{Model: "m", Prompt: "p"})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		text, finish, _, err := collect(s)
		if err != nil || len(text) != len(long) || finish != "length" {
			t.Fatalf("len %d finish %q err %v", len(text), finish, err)
		}
	})
	t.Run("over the limit is ErrLineTooLong", func(t *testing.T) {
		d := vllm.NewDecoder(strings.NewReader(chunk), 1<<20)
		if _, err := d.Next(); !errors.Is(err, vllm.ErrLineTooLong) {
			t.Fatalf("err = %v, want ErrLineTooLong", err)
		}
	})
	t.Run("garbage data is a typed error", func(t *testing.T) {
		c := serveBytes(t, []byte("data: {not json\n\n"), "text/event-stream", 200)
		s, err := c.Stream(context.Background(), vllm.Request{Model: "m", Prompt: "p"})
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		_, _, _, err = collect(s)
		checkErr(t, err, errAPI, 0)
	})
}

// Buffered says whether the next event is already read: never before the first read,
// and not for an event whose blank line has not arrived.
func TestDecoderBuffered(t *testing.T) {
	pr, pw := io.Pipe()
	d := vllm.NewDecoder(pr, 0)
	if d.Buffered() {
		t.Fatal("Buffered before any read")
	}
	go func() {
		_, _ = pw.Write([]byte("data: a\n\ndata: b\r\n\r\ndata: c\n"))
		_, _ = pw.Write([]byte("\n"))
		_ = pw.Close()
	}()
	// One read takes the first write: a, b and c's data line. After a, b is whole in the
	// buffer; after b, c still lacks its blank line (the second write).
	for i, want := range []struct {
		data     string
		buffered bool
	}{{"a", true}, {"b", false}, {"c", false}} {
		data, err := d.Next()
		if err != nil || string(data) != want.data {
			t.Fatalf("event %d: %q %v", i, data, err)
		}
		if got := d.Buffered(); got != want.buffered {
			t.Fatalf("after %q: Buffered %v, want %v", data, got, want.buffered)
		}
	}
}

// TestDecoderRelease: a released decoder gives its buffer back and reads nothing more;
// a decoder built afterwards (likely on that buffer) starts clean.
func TestDecoderRelease(t *testing.T) {
	d := vllm.NewDecoder(strings.NewReader("data: one\n\ndata: two\n\n"), 0)
	if b, err := d.Next(); err != nil || string(b) != "one" {
		t.Fatalf("Next = %q, %v; want one", b, err)
	}
	d.Release()
	d.Release() // twice is harmless
	if b, err := d.Next(); err != io.EOF || b != nil {
		t.Fatalf("after Release: Next = %q, %v; want io.EOF", b, err)
	}
	if d.Buffered() {
		t.Fatal("after Release: Buffered = true")
	}
	for i := range 3 {
		e := vllm.NewDecoder(strings.NewReader("data: fresh\n\n"), 0)
		if b, err := e.Next(); err != nil || string(b) != "fresh" {
			t.Fatalf("decoder %d after a release: Next = %q, %v; want fresh (no bytes left from the last reader)", i, b, err)
		}
		if e.Buffered() {
			t.Fatalf("decoder %d: Buffered with nothing left", i)
		}
		e.Release()
	}
}
