package realtime

import (
	"context"
	"testing"

	"github.com/hapa-project/hapa/vllm"
)

// The benchmarks run the engine over the in-process simulator with zero latency.
// BenchmarkUpstreamDirect is the same request through the bare vllm.Client, so the
// engine's overhead on a miss is the difference between the two.

func BenchmarkEngineCacheHit(b *testing.B) {
	h := newHarness(b, harnessOpt{})
	req := genReq("benchmark a cached request")
	ctx := context.Background()
	if _, err := h.e.Generate(ctx, req); err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		res, err := h.e.Generate(ctx, req)
		if err != nil || !res.Done.Cached {
			b.Fatalf("%+v %v", res.Done, err)
		}
	}
}

func BenchmarkEngineMiss(b *testing.B) {
	h := newHarness(b, harnessOpt{noCache: true})
	req := genReq("benchmark an uncached request")
	req.NoCache = true
	ctx := context.Background()
	b.ReportAllocs()
	var tokens int
	for b.Loop() {
		res, err := h.e.Generate(ctx, req)
		if err != nil {
			b.Fatal(err)
		}
		tokens = res.Done.Usage.CompletionTokens
	}
	b.ReportMetric(float64(tokens), "tokens/op")
}

func BenchmarkUpstreamDirect(b *testing.B) {
	h := newHarness(b, harnessOpt{noCache: true})
	req := genReq("benchmark an uncached request")
	if err := h.e.validate(&req); err != nil {
		b.Fatal(err)
	}
	up := h.e.render(context.Background(), req).upstream
	client := h.e.deps.Upstream
	b.ReportAllocs()
	for b.Loop() {
		drainUpstream(b, client, up)
	}
}

// BenchmarkTokens streams 512-token generations and reports allocations per token,
// for the engine and for the bare client.
func BenchmarkTokens(b *testing.B) {
	for _, path := range []string{"engine", "client"} {
		b.Run(path, func(b *testing.B) {
			h := newHarness(b, harnessOpt{noCache: true})
			req := genReq("benchmark a long answer with many tokens")
			req.MaxTokens, req.NoCache = 512, true
			if err := h.e.validate(&req); err != nil {
				b.Fatal(err)
			}
			up := h.e.render(context.Background(), req).upstream
			b.ReportAllocs()
			tokens := 0
			for b.Loop() {
				if path == "client" {
					tokens += drainUpstream(b, h.e.deps.Upstream, up)
					continue
				}
				res, err := h.e.Generate(context.Background(), req)
				if err != nil {
					b.Fatal(err)
				}
				tokens += res.Done.Usage.CompletionTokens
			}
			b.ReportMetric(float64(tokens)/float64(b.N), "tokens/op")
		})
	}
}

func drainUpstream(b *testing.B, u Upstream, req vllm.Request) int {
	s, err := u.Stream(context.Background(), req)
	if err != nil {
		b.Fatal(err)
	}
	defer s.Close()
	n := 0
	for s.Next() {
		if d := s.Delta(); d.Usage != nil {
			n = d.Usage.CompletionTokens
		}
	}
	if err := s.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}
