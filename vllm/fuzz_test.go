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
			var delta vllm.Delta
			_ = vllm.ParseChunk(data, &delta)
		}
		t.Fatal("decoder did not terminate")
	})
}
