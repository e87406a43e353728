package vllm

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"strings"
	"testing"
)

// benchStream builds n vLLM completion chunks, a usage chunk and [DONE].
func benchStream(n int) []byte {
	var b bytes.Buffer
	for i := range n {
		fmt.Fprintf(&b, `data: {"id":"cmpl-8f0c2b7e5d3a4c1e9b6f0a2d4c8e1b3f","object":"text_completion","created":1764590000,"model":"autocomplete","choices":[{"index":0,"text":" token%d","logprobs":null,"finish_reason":null,"stop_reason":null}],"usage":null}`+"\n\n", i%10)
	}
	b.WriteString(`data: {"id":"cmpl-x","object":"text_completion","created":1,"model":"autocomplete","choices":[{"index":0,"text":"","logprobs":null,"finish_reason":"stop","stop_reason":null}],"usage":null}` + "\n\n")
	b.WriteString(`data: {"id":"cmpl-x","object":"text_completion","created":1,"model":"autocomplete","choices":[],"usage":{"prompt_tokens":1,"total_tokens":2,"completion_tokens":1}}` + "\n\ndata: [DONE]\n\n")
	return b.Bytes()
}

func newReaderStream(r io.Reader) *Stream {
	return &Stream{replica: "bench", ctx: context.Background(), cancel: func() {},
		body: io.NopCloser(r), dec: NewDecoder(r, 0), watch: newWatchdog(func() {}, 0)}
}

// BenchmarkDecoder measures the full per-chunk path (SSE framing + JSON + Delta) of a
// 256-chunk completion stream; allocs/chunk is the figure to watch.
func BenchmarkDecoder(b *testing.B) {
	const chunks = 256
	raw := benchStream(chunks)
	r := bytes.NewReader(raw)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		r.Reset(raw)
		s := newReaderStream(r)
		for s.Next() {
			n++
		}
		if s.Err() != nil {
			b.Fatal(s.Err())
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(n), "ns/chunk")
}

// BenchmarkSSEFraming measures the SSE decoder alone.
func BenchmarkSSEFraming(b *testing.B) {
	raw := benchStream(256)
	r := bytes.NewReader(raw)
	d := NewDecoder(r, 0)
	b.SetBytes(int64(len(raw)))
	b.ReportAllocs()
	for b.Loop() {
		r.Reset(raw)
		d.r.Reset(r)
		for {
			if _, err := d.Next(); err != nil {
				break
			}
		}
	}
}

func BenchmarkPoolPick(b *testing.B) {
	for _, n := range []int{3, 16} {
		urls := make([]string, n)
		for i := range urls {
			urls[i] = fmt.Sprintf("http://10.0.0.%d:8000", i)
		}
		p, err := NewPool(PoolConfig{URLs: urls})
		if err != nil {
			b.Fatal(err)
		}
		keys := make([]string, 1024)
		for i := range keys {
			keys[i] = "workspace-" + strings.Repeat("x", i%7) + fmt.Sprint(i)
		}
		b.Run(fmt.Sprintf("affinity/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			i := 0
			for b.Loop() {
				if p.pick(true, hashKey(keys[i&1023]), 0, "autocomplete") == nil {
					b.Fatal("no replica")
				}
				i++
			}
		})
		b.Run(fmt.Sprintf("least-loaded/%d", n), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if p.pick(false, 0, 0, "autocomplete") == nil {
					b.Fatal("no replica")
				}
			}
		})
	}
}
