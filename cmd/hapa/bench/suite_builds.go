package bench

import (
	"context"
	"fmt"
	"slices"
	"time"
)

// throughput is the closed loop at 64 one-shot requests in flight, measured for
// requests per second and requests per CPU-second of the serving process: direct,
// HAPA, the reference proxy and, with SuiteOpts.Baseline, the baseline build's
// gateway beside this one, in rotating rounds of one run.
func (s *suite) throughput(ctx context.Context) error {
	const maxTokens, conc = 16, 64
	st, err := s.builds(ctx, "throughput", zeroSim, maxTokens)
	if err != nil {
		return err
	}
	defer st.Stop()
	body := GenBody(benchPrompt, 0.7, maxTokens, true)
	h := NewSide("HAPA", RESTTarget(s.hc, st.GW.URL, DemoKey, body), st.GW.Pid())
	d := NewSide("direct", VLLMPathTarget(s.hc, st.SimURL(), s.up.Path, s.up.Body(maxTokens, true)), st.Sim.Pid())
	ref := NewSide("reference proxy", RESTTarget(s.hc, st.Ref.URL, DemoKey, body), st.Ref.Pid())
	sides := []*Side{d, h, ref}
	var base *Side
	if st.Base != nil {
		base = NewSide("baseline build", RESTTarget(s.hc, st.Base.URL, DemoKey, body), st.Base.Pid())
		sides = []*Side{d, h, base, ref}
	}
	// Warm every side; not counted, but the gateways' answers are in their request logs.
	next, warm := 0, map[*Side]int{}
	for _, sd := range sides {
		w := Run(ctx, Load{Concurrency: conc, Duration: s.d(time.Second), First: next}, sd.T)
		next, warm[sd] = w.Next, w.OK
	}
	rounds := len(sides) * 2
	Rotate(ctx, Load{Concurrency: conc, Duration: s.d(2 * time.Second), First: next}, rounds, sides)
	s.logf("  closed loop %d: HAPA %.0f req/s, %.0f req/CPU-s; reference proxy %.0f, %.0f%s", conc,
		h.Res.Throughput(), h.PerCPUSecond(), ref.Res.Throughput(), ref.PerCPUSecond(), baseLog(base))

	sec := Section{Title: "Closed loop at 64: throughput and requests per CPU-second",
		Text: fmt.Sprintf("Closed loop, %d one-shot `POST /api/v1/code/generate` always in flight (unique prompts, "+
			"temperature 0.7, max_tokens %d, the zero-latency simulator), the gateway configured as in (a): API key, "+
			"limiter, JSON access log, metrics and the SQLite request log all on. Sides rotate every round "+
			"(%d rounds of %.0f s, each side first, second … last equally often): direct (the simulator alone, "+
			"HAPA's own upstream request), HAPA (this build), the reference proxy, and with `--baseline` a second "+
			"gateway from another build — its own process and SQLite database, the same configuration and "+
			"simulator — so that \"before\" and \"after\" share the run's machine state. CPU is the serving "+
			"process's utime+stime during its own rounds (for direct, the simulator's); requests per CPU-second "+
			"is answers divided by it. The per-round ratio is each round's figure over the same round's other "+
			"side, and the median of those is given beside the pooled ratio.",
			conc, maxTokens, rounds, s.d(2*time.Second).Seconds()),
		Tables: []Table{sidesTable(fmt.Sprintf("%d in flight", conc), sides, false)}}

	if base != nil {
		tp := Compared(h, base, Throughput)
		eff := Compared(h, base, PerCPU)
		s.rep.Goals = append(s.rep.Goals,
			Goal{"closed loop at 64: throughput, this build / the baseline build (same run)", "≥ 1.3×",
				fmt.Sprintf("%s (%.0f vs %.0f req/s)", tp, h.Res.Throughput(), base.Res.Throughput()),
				Check(tp.Pooled >= 1.3 && h.Res.ErrorCount() == 0)},
			Goal{"closed loop at 64: requests per gateway CPU-second, this build / the baseline build", "≥ 1.3×",
				fmt.Sprintf("%s (%.0f vs %.0f)", eff, h.PerCPUSecond(), base.PerCPUSecond()),
				Check(eff.Pooled >= 1.3 && h.Res.ErrorCount() == 0)})
		sec.Tables = append(sec.Tables, ratioTable([]ratioRow{
			{"this build / baseline build", h, base}, {"this build / reference proxy", h, ref},
			{"baseline build / reference proxy", base, ref}}))
	} else {
		s.rep.Goals = append(s.rep.Goals, Goal{"closed loop at 64: throughput and requests per CPU-second, this build / the baseline build",
			"≥ 1.3×", "no baseline build in this run (`hapa bench suite --baseline BIN`)", NotMeasured})
		sec.Tables = append(sec.Tables, ratioTable([]ratioRow{{"this build / reference proxy", h, ref}}))
	}
	s.rep.Goals = append(s.rep.Goals, Goal{"closed loop at 64: requests per gateway CPU-second against the reference proxy",
		"(no target: the floor)", fmt.Sprintf("%s (%.0f vs %.0f)", Compared(h, ref, PerCPU), h.PerCPUSecond(), ref.PerCPUSecond()), NotMeasured})

	// Every answered request is a request-log row, on both builds.
	for _, g := range []struct {
		side   *Side
		stop   func() error
		dbPath string
	}{{h, st.StopGateway, st.DBPath}, {base, st.StopBaseline, st.BaseDBPath}} {
		if g.side == nil {
			continue
		}
		if err := g.stop(); err != nil {
			s.logf("  %s stop: %v", g.side.Name, err)
		}
		rows, err := countRequestLog(ctx, g.dbPath)
		if err != nil {
			return err
		}
		served := g.side.Res.OK + warm[g.side]
		sec.Text += fmt.Sprintf("\n\nRequest log of %s: %d rows for %d answered requests (warm-up included).", g.side.Name, rows, served)
		if g.side == h {
			s.rep.Goals = append(s.rep.Goals, Goal{"closed loop at 64: request log, one row per answered request",
				"rows = answered requests", fmt.Sprintf("%d rows, %d answered", rows, served), Check(rows == served)})
		}
	}
	s.rep.Sections = append(s.rep.Sections, sec)
	return nil
}

// builds is a stack with the reference proxy and, when the suite has one, the
// baseline build's gateway.
func (s *suite) builds(ctx context.Context, name string, simArgs []string, maxTokens int) (*Stack, error) {
	o, err := s.refOpts(name, simArgs, maxTokens)
	if err != nil {
		return nil, err
	}
	o.Baseline = s.o.Baseline
	return StartStack(ctx, o)
}

func baseLog(base *Side) string {
	if base == nil {
		return ""
	}
	return fmt.Sprintf("; baseline build %.0f, %.0f", base.Res.Throughput(), base.PerCPUSecond())
}

// Throughput and PerCPU are the per-round figures Compared can take.
var (
	Throughput = func(r *Result, _ time.Duration) float64 { return r.Throughput() }
	PerCPU     = func(r *Result, cpu time.Duration) float64 { return PerCPUSecond(float64(r.OK), cpu) }
	TokensCPU  = func(r *Result, cpu time.Duration) float64 { return PerCPUSecond(float64(r.Tokens), cpu) }
)

// RatioFigure is one side's figure over another's: pooled over all rounds and the
// median of the rounds' ratios (round r of a against round r of b).
type RatioFigure struct {
	Pooled, Median float64
	Rounds         int
}

func (f RatioFigure) String() string {
	return fmt.Sprintf("%.2f× (median of %d rounds %.2f×)", f.Pooled, f.Rounds, f.Median)
}

// Compared is a's figure over b's, pooled and per round.
func Compared(a, b *Side, fig func(*Result, time.Duration) float64) RatioFigure {
	var f RatioFigure
	if den := fig(b.Res, b.CPU); den > 0 {
		f.Pooled = fig(a.Res, a.CPU) / den
	}
	var rs []float64
	for i := range min(len(a.Rounds), len(b.Rounds)) {
		if den := fig(b.Rounds[i], b.RoundCPU[i]); den > 0 {
			rs = append(rs, fig(a.Rounds[i], a.RoundCPU[i])/den)
		}
	}
	f.Rounds, f.Median = len(rs), Median(rs)
	return f
}

// Median is the middle value of xs (the mean of the two middle ones for an even
// count; 0 for none). xs is not modified.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// sidesTable lists every side's figures; tokens adds the per-token CPU columns.
func sidesTable(label string, sides []*Side, tokens bool) Table {
	t := Table{Header: []string{label, "requests", "errors", "req/s", "p50", "p99", "TTFT p50", "CPU (% of a core)", "CPU-s", "req per CPU-s"}}
	if tokens {
		t.Header = append(t.Header, "tokens/s", "tokens per CPU-s", "CPU per token")
	}
	for _, sd := range sides {
		r := sd.Res
		ttft := "–"
		if r.TTFT.Count() > 0 {
			ttft = Ms(r.TTFT.Quantile(0.5))
		}
		row := []string{sd.Name, fmt.Sprint(r.Requests), Errors(r.Errors), fmt.Sprintf("%.0f", r.Throughput()),
			Ms(r.Latency.Quantile(0.5)), Ms(r.Latency.Quantile(0.99)), ttft,
			fmt.Sprintf("%.0f %%", sd.CPUPercent()), fmt.Sprintf("%.2f", sd.CPU.Seconds()), fmt.Sprintf("%.0f", sd.PerCPUSecond())}
		if tokens {
			row = append(row, fmt.Sprintf("%.0f", r.TokenRate()), fmt.Sprintf("%.0f", sd.TokensPerCPUSecond()), Us(sd.CPUPerToken()))
		}
		t.Rows = append(t.Rows, row)
	}
	return t
}

type ratioRow struct {
	name string
	a, b *Side
}

func ratioTable(rows []ratioRow) Table {
	t := Table{Header: []string{"ratio", "req/s", "req per CPU-s"}}
	for _, r := range rows {
		t.Rows = append(t.Rows, []string{r.name, Compared(r.a, r.b, Throughput).String(), Compared(r.a, r.b, PerCPU).String()})
	}
	return t
}

// Us formats a duration in microseconds with one decimal.
func Us(d time.Duration) string { return fmt.Sprintf("%.1f µs", float64(d)/float64(time.Microsecond)) }
