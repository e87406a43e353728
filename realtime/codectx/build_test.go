package codectx

import (
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/vllm"
)

// TestBuildFIMGolden pins one whole prompt: the best window of the neighbouring file
// in its own language's comment header, then the edited file's, then the cursor.
func TestBuildFIMGolden(t *testing.T) {
	f := FIM{
		Family: vllm.FamilyDeepSeekCoder, Path: "cmd/shop/main.go", Language: "go",
		Prefix: "func checkout(c *Cart) float64 {\n\treturn ", Suffix: "\n}\n",
		Snippets: []Snippet{
			{Path: "README.md", Text: "# Shop\n\nRun it.\n"},
			{Path: "shop/cart.py", Text: "def cart_total(cart):\n    return sum(cart)\n"},
			{Path: "shop/cart.go", Text: "// Total is the sum of the cart's prices.\nfunc (c *Cart) Total() float64 { return c.sum }\n"},
		},
		BudgetTokens: 1024, MaxTokens: 64,
	}
	got := BuildFIM(f)
	want := "<｜fim▁begin｜># shop/cart.py\ndef cart_total(cart):\n    return sum(cart)\n\n" +
		"// shop/cart.go\n// Total is the sum of the cart's prices.\nfunc (c *Cart) Total() float64 { return c.sum }\n\n" +
		"// cmd/shop/main.go\nfunc checkout(c *Cart) float64 {\n\treturn <｜fim▁hole｜>\n}\n<｜fim▁end｜>"
	if got.Prompt != want {
		t.Errorf("prompt\n got %q\nwant %q", got.Prompt, want)
	}
	if got.Context != Cost(got.Pieces) || got.Context > got.Room || got.Room != BudgetBytes(1024) {
		t.Errorf("context %d of room %d", got.Context, got.Room)
	}
	_, stop := vllm.RenderFIM(vllm.FamilyDeepSeekCoder, "", "")
	if !slices.Equal(got.Stop, stop) {
		t.Errorf("stop %q", got.Stop)
	}
}

// TestBuildFIMWithinLimits: the context added to the prompt stays within the budget
// and within what max_model_len leaves (counted at one token per byte), for every
// family.
func TestBuildFIMWithinLimits(t *testing.T) {
	snips := twenty()
	prefix, suffix := synth(50, 120, "py", vocab), synth(51, 30, "py", vocab)
	for _, fam := range vllm.Families() {
		for _, limit := range []struct{ budget, maxLen int }{{1024, 0}, {256, 0}, {1024, 12000}, {4096, 9000}, {1024, 100}} {
			f := FIM{Family: fam, Path: "app/main.py", Language: "python", Prefix: prefix, Suffix: suffix,
				Snippets: snips, BudgetTokens: limit.budget, MaxModelLen: limit.maxLen, MaxTokens: 64}
			got := BuildFIM(f)
			bare, _ := vllm.RenderFIMInput(fam, vllm.FIMInput{Path: f.Path, Comment: vllm.Comment{Start: "#"}, Prefix: prefix, Suffix: suffix})
			added := len(got.Prompt) - len(bare)
			if added > BudgetBytes(limit.budget) || added > got.Context {
				t.Errorf("%s %+v: context adds %d bytes; budget %d bytes, packed cost %d", fam, limit, added, BudgetBytes(limit.budget), got.Context)
			}
			if limit.maxLen > 0 && len(got.Prompt)+64 > limit.maxLen && len(got.Pieces) > 0 {
				t.Errorf("%s %+v: %d prompt bytes + 64 exceed max_model_len with context packed", fam, limit, len(got.Prompt))
			}
			if limit.maxLen != 100 && len(got.Pieces) == 0 {
				t.Errorf("%s %+v: nothing packed", fam, limit)
			}
			if !strings.Contains(got.Prompt, "app/main.py") {
				t.Errorf("%s: no path header", fam)
			}
		}
	}
}

// BenchmarkContextPacking measures what context packing adds to one completion
// request: ranking and packing 20 snippets of 200 lines into a 1,024-token budget and
// rendering the prompt (the target is under 1 ms at p99; docs/performance.md). It
// reports the per-request p50 and p99 besides the mean.
func BenchmarkContextPacking(b *testing.B) {
	snips := twenty()
	f := FIM{Family: vllm.FamilyDeepSeekCoder, Path: "app/main.py", Language: "python",
		Prefix: synth(50, 120, "py", vocab), Suffix: synth(51, 30, "py", vocab),
		Snippets: snips, BudgetTokens: 1024, MaxModelLen: 16384, MaxTokens: 64}
	bytes := 0
	for _, s := range snips {
		bytes += len(s.Text)
	}
	b.SetBytes(int64(bytes))
	b.ReportAllocs()
	times := make([]time.Duration, 0, b.N)
	for b.Loop() {
		t0 := time.Now()
		if len(BuildFIM(f).Pieces) == 0 {
			b.Fatal("nothing packed")
		}
		times = append(times, time.Since(t0))
	}
	slices.Sort(times)
	b.ReportMetric(float64(times[len(times)/2].Nanoseconds()), "p50-ns")
	b.ReportMetric(float64(times[(len(times)*99)/100].Nanoseconds()), "p99-ns")
}
