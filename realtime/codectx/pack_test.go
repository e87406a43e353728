package codectx

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// synth is a deterministic source file of n lines in the style of lang ("py" or "go"),
// whose identifiers are drawn from vocab: real-looking code of realistic density.
func synth(seed uint64, n int, lang string, vocab []string) string {
	r := rand.New(rand.NewPCG(seed, 7))
	w := func() string { return vocab[r.IntN(len(vocab))] }
	var b strings.Builder
	for i := 0; b.Len() >= 0 && strings.Count(b.String(), "\n") < n; i++ {
		switch lang {
		case "go":
			fmt.Fprintf(&b, "func (s *%s) %s(ctx context.Context, %s int) (%s, error) {\n", w(), w(), w(), w())
			fmt.Fprintf(&b, "\tif err := s.%s.%s(ctx, %s); err != nil {\n\t\treturn nil, fmt.Errorf(\"%s: %%w\", err)\n\t}\n", w(), w(), w(), w())
			fmt.Fprintf(&b, "\t%s := s.%s[%s]\n\treturn &%s{%s: %s}, nil\n}\n\n", w(), w(), w(), w(), w(), w())
		default:
			fmt.Fprintf(&b, "def %s_%s(%s, %s=None):\n", w(), w(), w(), w())
			fmt.Fprintf(&b, "    %s = %s.%s(%s)\n    if %s is None:\n        raise ValueError(\"%s\")\n", w(), w(), w(), w(), w(), w())
			fmt.Fprintf(&b, "    return [%s.%s for %s in %s]\n\n", w(), w(), w(), w())
		}
	}
	return firstLines(b.String(), n)
}

var vocab = strings.Fields(`user account session order invoice payment cart item price total discount coupon
	customer address shipping tax currency amount balance ledger entry report query cache store record
	request response handler router client server config logger metrics token expiry quota limit`)

// twenty is the benchmark's input: 20 snippets of 200 lines, half Python, half Go.
func twenty() []Snippet {
	out := make([]Snippet, 20)
	for i := range out {
		lang, ext := "py", ".py"
		if i%2 == 1 {
			lang, ext = "go", ".go"
		}
		out[i] = Snippet{Path: fmt.Sprintf("pkg/mod%02d/file%s", i, ext), Text: synth(uint64(i), 200, lang, vocab)}
	}
	return out
}

func TestPackRanksTheRelevantWindow(t *testing.T) {
	filler := strings.Repeat("import os\nprint(os.getcwd())\n", 40)
	needle := "def apply_discount(subtotal, coupon):\n    return subtotal * (1 - coupon.rate)\n"
	snips := []Snippet{
		{Path: "util/misc.py", Text: filler},
		{Path: "shop/pricing.py", Text: filler + needle + filler},
		{Path: "shop/empty.py", Text: ""},
	}
	query := QueryOf("def checkout(cart, coupon):\n    subtotal = sum(i.price for i in cart)\n    total = ", "\n    return total\n")
	ps := Pack(snips, query, 400)
	if len(ps) == 0 {
		t.Fatal("nothing packed")
	}
	best := ps[len(ps)-1]
	if best.Path != "shop/pricing.py" || !strings.Contains(best.Text, "def apply_discount(subtotal, coupon):") {
		t.Errorf("best piece %q from %s, want the window defining apply_discount", best.Text, best.Path)
	}
	if c := Cost(ps); c > 400 {
		t.Errorf("cost %d over the budget 400", c)
	}
	for _, p := range ps {
		if p.Path == "util/misc.py" {
			t.Errorf("packed a window sharing no identifier with the cursor: %q", p.Text)
		}
	}
}

// TestPackBudget: for every budget the packed context fits, is made of whole lines of
// the snippets, and grows with the budget; the same input always packs the same.
func TestPackBudget(t *testing.T) {
	snips := twenty()
	query := QueryOf(synth(99, 40, "py", vocab), synth(98, 10, "py", vocab))
	prev := 0
	for _, budget := range []int{0, 1, 40, 100, 700, 3584, 20000, 1 << 20} {
		ps := Pack(snips, query, budget)
		c := Cost(ps)
		if c > budget {
			t.Errorf("budget %d: cost %d", budget, c)
		}
		if c < prev && budget > 0 {
			t.Errorf("budget %d packs %d bytes, less than a smaller budget's %d", budget, c, prev)
		}
		prev = c
		for _, p := range ps {
			text := snips[p.Snippet].Text
			at := strings.Index(text, p.Text)
			if at < 0 || (at > 0 && text[at-1] != '\n') || (!strings.HasSuffix(p.Text, "\n") && at+len(p.Text) != len(text)) {
				t.Fatalf("budget %d: piece of %s is not whole lines: %q", budget, p.Path, p.Text)
			}
		}
		for i := 1; i < len(ps); i++ {
			if ps[i].Score < ps[i-1].Score {
				t.Errorf("budget %d: pieces not least relevant first", budget)
			}
		}
		if again := Pack(snips, query, budget); !slices.Equal(again, ps) {
			t.Errorf("budget %d: a second pack differs", budget)
		}
	}
	if all := Pack(snips, query, 1<<20); Cost(all) < 20000 {
		t.Errorf("an unlimited budget packed only %d bytes", Cost(all))
	}
}

// TestPackTruncatesOnLines: a window that does not fit whole is cut after its last
// line that fits, never inside one.
func TestPackTruncatesOnLines(t *testing.T) {
	text := "alpha beta\ngamma alpha\ndelta alpha beta gamma\n"
	snips := []Snippet{{Path: "a.py", Text: text}}
	ps := Pack(snips, []string{"alpha beta gamma"}, len("a.py")+PieceOverhead+len("alpha beta\ngamma alpha\n")+5)
	if len(ps) != 1 || ps[0].Text != "alpha beta\ngamma alpha\n" {
		t.Errorf("got %+v, want the first two lines", ps)
	}
}

func TestRoom(t *testing.T) {
	tests := []struct {
		name                                         string
		budget, maxModelLen, prompt, maxTokens, want int
	}{
		{"budget only", 1024, 0, 5000, 64, 3584},
		{"model leaves more", 1024, 16384, 5000, 64, 3584},
		{"model leaves less", 1024, 6000, 5000, 64, 6000 - 5000 - 64 - guardSlack},
		{"no room", 1024, 4096, 5000, 64, 0},
		{"no budget", 0, 16384, 10, 64, 0},
	}
	for _, tt := range tests {
		if got := Room(tt.budget, tt.maxModelLen, tt.prompt, tt.maxTokens); got != tt.want {
			t.Errorf("%s: %d, want %d", tt.name, got, tt.want)
		}
	}
}

func TestEstimateTokens(t *testing.T) {
	for n, want := range map[int]int{0: 0, 1: 1, 7: 2, 35: 10, 3584: 1024} {
		if got := EstimateTokens(n); got != want {
			t.Errorf("EstimateTokens(%d) = %d, want %d", n, got, want)
		}
	}
	if BudgetBytes(1024) != 3584 {
		t.Errorf("BudgetBytes(1024) = %d", BudgetBytes(1024))
	}
}
