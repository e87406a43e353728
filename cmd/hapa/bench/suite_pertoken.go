package bench

import (
	"context"
	"fmt"
	"time"
)

// perToken is the gateway's CPU per relayed token at 1,000 paced streams, over SSE and
// over the hapa.v1 socket (1,000 sockets, one stream each), in rotating rounds; with
// SuiteOpts.Baseline the baseline build's gateway runs both beside this one.
func (s *suite) perToken(ctx context.Context) error {
	const maxTokens, streams = 40, 1000
	st, err := StartStack(ctx, StackOpts{Bin: s.o.Bin, Dir: s.o.Dir, Name: "pertoken", SimArgs: paceSim, Baseline: s.o.Baseline})
	if err != nil {
		return err
	}
	defer st.Stop()
	body := GenBody(benchPrompt, 0.7, maxTokens, true)
	gws := []struct {
		name string
		p    *Proc
	}{{"HAPA", st.GW}}
	if st.Base != nil {
		gws = append(gws, struct {
			name string
			p    *Proc
		}{"baseline build", st.Base})
	}
	var sides []*Side
	var sse, sock []*Side
	for _, g := range gws {
		pool := DialPool(ctx, s.hc, g.p.URL, DemoKey, streams, 128)
		defer pool.Close()
		if len(pool.Clients) < streams {
			return fmt.Errorf("bench: %s: %d of %d sockets open (%s)", g.name, len(pool.Clients), streams, Errors(pool.Errors))
		}
		a := NewSide(g.name+", SSE", SSETarget(s.hc, g.p.URL, DemoKey, body), g.p.Pid())
		b := NewSide(g.name+", socket", WSTarget(pool, benchPrompt, 0.7, maxTokens, true), g.p.Pid())
		sides, sse, sock = append(sides, a, b), append(sse, a), append(sock, b)
	}
	next := 1 << 22
	for _, sd := range sides {
		next = Run(ctx, Load{Concurrency: 200, Duration: s.d(time.Second), First: next}, sd.T).Next
	}
	rounds := len(sides)
	Rotate(ctx, Load{Concurrency: streams, Duration: s.d(6 * time.Second), RampUp: 2 * time.Second, First: next}, rounds, sides)
	for _, sd := range sides {
		s.logf("  %s: %.0f tokens/s, %s CPU per token, TTFT p50 %s", sd.Name, sd.Res.TokenRate(), Us(sd.CPUPerToken()), Ms(sd.Res.TTFT.Quantile(0.5)))
	}
	r := Compared(sse[0], sock[0], TokensCPU) // > 1: the socket costs more per token than SSE
	ok := sse[0].Res.ErrorCount() == 0 && sock[0].Res.ErrorCount() == 0
	s.rep.Goals = append(s.rep.Goals, Goal{"1,000 streams: gateway CPU per relayed token, socket / SSE", "≤ 1.0×",
		fmt.Sprintf("%.2f× (socket %s, SSE %s per token; median of %d rounds %.2f×)", r.Pooled,
			Us(sock[0].CPUPerToken()), Us(sse[0].CPUPerToken()), r.Rounds, r.Median),
		Check(r.Pooled > 0 && r.Pooled <= 1.0 && ok)})
	rows := []ratioRow{}
	tbl := Table{Header: []string{"ratio (tokens per CPU-s)", "pooled and per round"}}
	if len(sse) > 1 {
		rows = append(rows, ratioRow{"SSE: this build / baseline build", sse[0], sse[1]},
			ratioRow{"socket: this build / baseline build", sock[0], sock[1]},
			ratioRow{"baseline build: SSE / socket", sse[1], sock[1]})
	}
	rows = append(rows, ratioRow{"this build: SSE / socket", sse[0], sock[0]})
	for _, rr := range rows {
		tbl.Rows = append(tbl.Rows, []string{rr.name, Compared(rr.a, rr.b, TokensCPU).String()})
	}
	s.rep.Sections = append(s.rep.Sections, Section{Title: "CPU per relayed token at 1,000 streams: SSE and the socket",
		Text: fmt.Sprintf("The simulator sends a token every 50 ms, max_tokens %d (2 s streams); %d streams in a closed loop, "+
			"their starts spread over 2 s, %d rounds of %.0f s rotating the sides. SSE: `POST /api/v1/code/generate/stream`; "+
			"socket: %d hapa.v1 sockets dialled before the rounds, one `generation.create` at a time on each (sockets "+
			"are picked by request number, so a socket briefly carries two streams now and then). CPU is the gateway "+
			"process's utime+stime during that side's rounds; tokens are the completion tokens of the final usage. "+
			"With `--baseline`, the baseline build's gateway runs both paths in the same rotation.",
			maxTokens, streams, rounds, s.d(6*time.Second).Seconds(), streams),
		Tables: []Table{sidesTable(fmt.Sprintf("%d streams", streams), sides, true), tbl}})
	return nil
}
