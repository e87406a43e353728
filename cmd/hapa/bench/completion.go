package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"regexp"
	"runtime"
	"slices"
	"strings"
	"syscall"
	"time"

	"github.com/hapa-project/hapa/realtime/codectx"
	"github.com/hapa-project/hapa/vllm"
)

// The completion scenario (`hapa bench completion`, and "completion" in the suite):
// what editor context costs and what it brings, measured on the corpus (corpus.go).
// Everything but the optional gateway part runs in this process and times exactly the
// function the engine calls to build a completion prompt (codectx.BuildFIM).

// CompletionOpts configures CompletionBench; zero fields are the defaults.
type CompletionOpts struct {
	Family       vllm.Family // FIM template; default deepseek-coder
	BudgetTokens int         // context budget; default 1024 (CONTEXT_TOKEN_BUDGET)
	MaxModelLen  int         // the model's context length; default 16384
	MaxTokens    int         // the completion's max_tokens; default 64
	Rounds       int         // prompt builds per corpus case; default 200
	StressRounds int         // builds of the 20 × 200-line case; default 2000
	// URL and Key, when URL is set, point at a gateway: every case is also completed
	// there with and without its snippets, for latency and exact matches (meaningful
	// against a real model only; the simulator's text is random).
	URL, Key string
	HTTP     *http.Client
}

func (o *CompletionOpts) defaults() {
	if o.Family == "" {
		o.Family = vllm.FamilyDeepSeekCoder
	}
	if o.BudgetTokens <= 0 {
		o.BudgetTokens = 1024
	}
	if o.MaxModelLen <= 0 {
		o.MaxModelLen = 16384
	}
	if o.MaxTokens <= 0 {
		o.MaxTokens = 64
	}
	if o.Rounds <= 0 {
		o.Rounds = 200
	}
	if o.StressRounds <= 0 {
		o.StressRounds = 2000
	}
	if o.HTTP == nil {
		o.HTTP = http.DefaultClient
	}
}

// packingGoal is the target for packing 20 snippets of 200 lines.
const packingGoal = time.Millisecond

// CompletionBench runs the scenario and returns its report section and goal.
func CompletionBench(ctx context.Context, o CompletionOpts) (Section, []Goal, error) {
	o.defaults()
	corpus, err := LoadCorpus()
	if err != nil {
		return Section{}, nil, err
	}
	cases := make([]CompletionCase, len(corpus.Cases))
	for i, k := range corpus.Cases {
		cases[i], _ = corpus.Request(k) // checked by LoadCorpus
	}
	sec := Section{Title: "(g) Completion prompts with editor context", Text: fmt.Sprintf(completionText,
		len(cases), o.Family, o.BudgetTokens, o.MaxModelLen, o.MaxTokens, o.Rounds, o.StressRounds)}

	sec.Tables = append(sec.Tables, promptTable(cases, o))
	stress, st := stressRow(corpus, cases[0], o)
	sec.Tables = append(sec.Tables, stress)
	sec.Tables = append(sec.Tables, recallTable(cases, o))
	goal := Goal{"context packing, 20 snippets × 200 lines, per request", "p99 < " + Ms(packingGoal),
		fmt.Sprintf("p99 %s (p50 %s, max %s; %d builds)", Ms(st.P99), Ms(st.P50), Ms(st.Max), st.N), Check(st.P99 < packingGoal)}
	if o.URL != "" {
		t, err := gatewayTable(ctx, cases, o)
		if err != nil {
			return sec, []Goal{goal}, err
		}
		sec.Tables = append(sec.Tables, t)
	}
	return sec, []Goal{goal}, ctx.Err()
}

const completionText = `Corpus: %d cursor positions cut from four small repositories (Python, Go, TypeScript, Rust;
cmd/hapa/bench/testdata/completion), each at the start of a line whose text is the expected completion;
the repository's other files are the context snippets. Family %s, context budget %d tokens,
max_model_len %d, max_tokens %d. Build time is one codectx.BuildFIM call — ranking, packing and
rendering the prompt, what the engine runs per completion — timed %d times per case; the stress row
builds one case with 20 snippets of 200 lines %d times, and its CPU / build is the process's CPU time
over those builds (getrusage), which other work on the machine does not inflate the way it does
wall-clock percentiles. Tokens are the gateway's estimate (bytes / 3.5). Recall is the share of the
expected completion's identifiers that appear neither before nor after the cursor but do appear in the
packed context: what the context can teach the model, with the BM25 ranking and with the snippets packed
in the order sent.`

// build is one timed prompt build.
func build(f codectx.FIM) (codectx.Built, time.Duration) {
	t0 := time.Now()
	b := codectx.BuildFIM(f)
	return b, time.Since(t0)
}

func fimOf(c CompletionCase, o CompletionOpts, snips []codectx.Snippet, budget int) codectx.FIM {
	return codectx.FIM{Family: o.Family, Path: c.Path, Language: c.Language, Prefix: c.Prefix, Suffix: c.Suffix,
		Snippets: snips, BudgetTokens: budget, MaxModelLen: o.MaxModelLen, MaxTokens: o.MaxTokens}
}

// promptTable is prompt size and build time per language and overall.
func promptTable(cases []CompletionCase, o CompletionOpts) Table {
	t := Table{Header: []string{"language", "cases", "prompt bytes p50 (no context → with)", "tokens p50 / p99 (with)",
		"context bytes p50", "build p50", "build p99"}}
	type acc struct {
		n                int
		bare, with, ctxt []int
		times            Hist
	}
	by := map[string]*acc{}
	all := &acc{}
	for _, c := range cases {
		a := by[c.Language]
		if a == nil {
			a = &acc{}
			by[c.Language] = a
		}
		bare := codectx.BuildFIM(fimOf(c, o, nil, 0))
		var b codectx.Built
		for range o.Rounds {
			var d time.Duration
			b, d = build(fimOf(c, o, c.Snippets, o.BudgetTokens))
			a.times.Add(d)
			all.times.Add(d)
		}
		for _, x := range []*acc{a, all} {
			x.n++
			x.bare, x.with, x.ctxt = append(x.bare, len(bare.Prompt)), append(x.with, len(b.Prompt)), append(x.ctxt, b.Context)
		}
	}
	row := func(name string, a *acc) []string {
		return []string{name, fmt.Sprint(a.n), fmt.Sprintf("%d → %d", quantileInt(a.bare, 0.5), quantileInt(a.with, 0.5)),
			fmt.Sprintf("%d / %d", codectx.EstimateTokens(quantileInt(a.with, 0.5)), codectx.EstimateTokens(quantileInt(a.with, 0.99))),
			fmt.Sprint(quantileInt(a.ctxt, 0.5)), Ms(a.times.Quantile(0.5)), Ms(a.times.Quantile(0.99))}
	}
	for _, lang := range slices.Sorted(maps.Keys(by)) {
		t.Rows = append(t.Rows, row(lang, by[lang]))
	}
	t.Rows = append(t.Rows, row("all", all))
	return t
}

// stressRow times the case: 20 snippets of 200 lines.
func stressRow(c *Corpus, cc CompletionCase, o CompletionOpts) (Table, Summary) {
	snips := c.Stress(20, 200)
	n := 0
	for _, s := range snips {
		n += len(s.Text)
	}
	f := fimOf(cc, o, snips, o.BudgetTokens)
	codectx.BuildFIM(f) // warm
	var h Hist
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	cpu0 := processCPU()
	var b codectx.Built
	for range o.StressRounds {
		var d time.Duration
		b, d = build(f)
		h.Add(d)
	}
	cpu := (processCPU() - cpu0) / time.Duration(o.StressRounds)
	runtime.ReadMemStats(&after)
	s := h.Summary()
	t := Table{Header: []string{"snippets", "snippet bytes", "packed pieces", "context bytes", "p50", "p90", "p99", "max", "CPU / build", "allocs / build", "KiB / build"},
		Rows: [][]string{{"20 × 200 lines", fmt.Sprint(n), fmt.Sprint(len(b.Pieces)), fmt.Sprint(b.Context),
			Ms(s.P50), Ms(s.P90), Ms(s.P99), Ms(s.Max), Ms(cpu),
			fmt.Sprintf("%.0f", float64(after.Mallocs-before.Mallocs)/float64(o.StressRounds)),
			fmt.Sprintf("%.0f", float64(after.TotalAlloc-before.TotalAlloc)/float64(o.StressRounds)/1024)}}}
	return t, s
}

var identRE = regexp.MustCompile(`[A-Za-z_][A-Za-z0-9_]+`)

func idents(s string) map[string]bool {
	m := map[string]bool{}
	for _, w := range identRE.FindAllString(s, -1) {
		m[w] = true
	}
	return m
}

// processCPU is the CPU time this process has used (user and system, every thread;
// the collector's share of a build included), or 0 where getrusage fails.
func processCPU() time.Duration {
	var ru syscall.Rusage
	if syscall.Getrusage(syscall.RUSAGE_SELF, &ru) != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// recallTable compares the ranked packing with packing the snippets in the order sent,
// at three budgets.
func recallTable(cases []CompletionCase, o CompletionOpts) Table {
	t := Table{Header: []string{"budget (tokens)", "cases with cross-file identifiers", "recall, ranked (BM25)", "recall, in order sent", "context bytes p50, ranked"}}
	for _, budget := range []int{64, 128, 256, o.BudgetTokens} {
		var want, ranked, plain, cases2 int
		var sizes []int
		for _, c := range cases {
			local := idents(c.Prefix + c.Suffix)
			var need []string
			for w := range idents(c.Expected) {
				if !local[w] {
					need = append(need, w)
				}
			}
			if len(need) == 0 {
				continue
			}
			cases2++
			b := codectx.BuildFIM(fimOf(c, o, c.Snippets, budget))
			var packed strings.Builder
			for _, p := range b.Pieces {
				packed.WriteString(p.Text)
			}
			got := idents(packed.String())
			inOrder := idents(firstBytes(c.Snippets, b.Room))
			for _, w := range need {
				want++
				if got[w] {
					ranked++
				}
				if inOrder[w] {
					plain++
				}
			}
			sizes = append(sizes, b.Context)
		}
		t.Rows = append(t.Rows, []string{fmt.Sprint(budget), fmt.Sprint(cases2), pct(ranked, want), pct(plain, want), fmt.Sprint(quantileInt(sizes, 0.5))})
	}
	return t
}

// firstBytes is the baseline packer: the snippets in the order sent, whole lines,
// until room bytes (with the same per-piece overhead) are used.
func firstBytes(snips []codectx.Snippet, room int) string {
	var b strings.Builder
	for _, s := range snips {
		room -= len(s.Path) + codectx.PieceOverhead
		for _, line := range strings.SplitAfter(s.Text, "\n") {
			if room < len(line) {
				return b.String()
			}
			b.WriteString(line)
			room -= len(line)
		}
	}
	return b.String()
}

// gatewayTable completes every case at a gateway with and without its snippets.
func gatewayTable(ctx context.Context, cases []CompletionCase, o CompletionOpts) (Table, error) {
	t := Table{Header: []string{"request", "cases", "exact first line", "first line a prefix of the expected", "latency p50", "latency p99"}}
	for _, withCtx := range []bool{false, true} {
		var h Hist
		exact, partial := 0, 0
		for _, c := range cases {
			body := map[string]any{"prefix": c.Prefix, "suffix": c.Suffix, "file_path": c.Path, "max_tokens": 48}
			if withCtx {
				snips := make([]map[string]string, len(c.Snippets))
				for i, s := range c.Snippets {
					snips[i] = map[string]string{"path": s.Path, "text": s.Text}
				}
				body["context_snippets"] = snips
			}
			t0 := time.Now()
			text, err := complete(ctx, o, body)
			if err != nil {
				return t, err
			}
			h.Add(time.Since(t0))
			first, _, _ := strings.Cut(strings.TrimLeft(text, " \t"), "\n")
			first = strings.TrimSpace(first)
			switch {
			case first == c.Expected:
				exact++
				partial++
			case first != "" && strings.HasPrefix(c.Expected, first):
				partial++
			}
		}
		name := "without context"
		if withCtx {
			name = "with context_snippets"
		}
		t.Rows = append(t.Rows, []string{name, fmt.Sprint(len(cases)), pct(exact, len(cases)), pct(partial, len(cases)),
			Ms(h.Quantile(0.5)), Ms(h.Quantile(0.99))})
	}
	return t, nil
}

func complete(ctx context.Context, o CompletionOpts, body map[string]any) (string, error) {
	b, _ := json.Marshal(body)
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, strings.TrimRight(o.URL, "/")+"/api/v1/code/complete", bytes.NewReader(b))
	if err != nil {
		return "", err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("X-API-Key", o.Key)
	resp, err := o.HTTP.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("bench: /code/complete answered %d: %s", resp.StatusCode, truncateBody(raw))
	}
	var out struct {
		Completions []struct {
			Code string `json:"code"`
		} `json:"completions"`
	}
	if err := json.Unmarshal(raw, &out); err != nil {
		return "", err
	}
	if len(out.Completions) == 0 {
		return "", nil
	}
	return out.Completions[0].Code, nil
}

func truncateBody(b []byte) string {
	if len(b) > 200 {
		b = b[:200]
	}
	return string(b)
}

func pct(n, of int) string {
	if of == 0 {
		return "–"
	}
	return fmt.Sprintf("%.0f %% (%d of %d)", 100*float64(n)/float64(of), n, of)
}

// quantileInt is the nearest-rank q-quantile of xs (0 without samples).
func quantileInt(xs []int, q float64) int {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(xs))
	rank := min(max(int(float64(len(s))*q+0.999999), 1), len(s))
	return s[rank-1]
}
