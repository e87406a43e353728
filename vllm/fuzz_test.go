package vllm_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/hapa-project/hapa/vllm"
)

// FuzzDecoder feeds arbitrary bytes through the decoder and the chunk parser (via
// vllm.ParseChunk): no panic, no data outside the input, bounded lines.
func FuzzDecoder(f *testing.F) {
	files, _ := filepath.Glob("testdata/*")
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte("data: [DONE]"))
	f.Add([]byte("data:\r\n\r\n:\n\nevent: x\ndata: {\"error\":\"x\"}\n\n"))
	f.Fuzz(func(t *testing.T, in []byte) {
		d := vllm.NewDecoder(bytes.NewReader(in), 4096)
		for range len(in) + 1 {
			data, err := d.Next()
			if err != nil {
				if !errors.Is(err, io.EOF) && !errors.Is(err, vllm.ErrLineTooLong) {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			if len(data) > len(in) {
				t.Fatalf("event of %d bytes from %d bytes of input", len(data), len(in))
			}
			checkFastChunk(t, data)
		}
		t.Fatal("decoder did not terminate")
	})
}

// checkFastChunk requires the allocation-free chunk decoder to agree with the
// encoding/json reference whenever it answers.
func checkFastChunk(t *testing.T, data []byte) {
	ok, fast, slow, err := vllm.ParseChunkBoth(data)
	if !ok {
		return
	}
	if err != nil {
		t.Fatalf("fast path accepted %q, reference says %v", data, err)
	}
	if fast.Text != slow.Text || fast.FinishReason != slow.FinishReason ||
		(fast.Usage == nil) != (slow.Usage == nil) || fast.Usage != nil && *fast.Usage != *slow.Usage {
		t.Fatalf("%q: fast %+v, reference %+v", data, fast, slow)
	}
}

func FuzzChunk(f *testing.F) {
	for _, s := range []string{
		`{"id":"cmpl-1","object":"text_completion","created":1,"model":"m","choices":[{"index":0,"text":"a\n\u00e9\ud83d\ude00","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null}`,
		`{"id":"c","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"logprobs":null,"finish_reason":"stop"}]}`,
		`{"choices":[],"usage":{"prompt_tokens":3,"total_tokens":5,"completion_tokens":2,"prompt_tokens_details":{"cached_tokens":0}}}`,
		`{"error":{"message":"x","type":"BadRequestError","param":null,"code":400}}`,
		`{"object":"error","message":"x","code":500}`,
		`{"choices":[{"index":1,"text":"b"},{"index":0,"text":"a","x":[1,-2.5e3,true,{"y":"z"}]}]}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) { checkFastChunk(t, data) })
}
