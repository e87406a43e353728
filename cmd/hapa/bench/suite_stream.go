package bench

import (
	"context"
	"fmt"
	"time"
)

// streaming is scenario (b): 1,000 concurrent SSE streams through HAPA vs straight
// from the simulator, first paced (added time to first token), then saturated
// (relay throughput).
func (s *suite) streaming(ctx context.Context) error {
	paced, pacedBase, err := s.streamRun(ctx, "streaming-paced", paceSim, 40, 2*time.Second)
	if err != nil {
		return err
	}
	sat, satBase, err := s.streamRun(ctx, "streaming-saturated", streamSim, 200, time.Second)
	if err != nil {
		return err
	}
	h, d, rf := &paced.HAPA.TTFT, &paced.Direct.TTFT, &paced.Ref.TTFT
	added := Added(h, d, 0.5)
	perCPU := 0.0
	if sat.GatewayCPU > 0 {
		perCPU = float64(sat.HAPA.Tokens) / sat.GatewayCPU.Seconds()
	}
	refPerCPU := 0.0
	if sat.RefCPU > 0 {
		refPerCPU = float64(sat.Ref.Tokens) / sat.RefCPU.Seconds()
	}
	s.rep.Goals = append(s.rep.Goals,
		Goal{"streaming: added TTFT p50 at 1,000 streams", "≤ 0.3 ms",
			fmt.Sprintf("%s (HAPA %s, direct %s; paced, 20 tokens/s per stream); the reference proxy adds %s",
				Ms(added), Ms(h.Quantile(0.5)), Ms(d.Quantile(0.5)), Ms(Added(rf, d, 0.5))),
			Check(added <= 300*time.Microsecond && paced.HAPA.ErrorCount() == 0)},
		Goal{"streaming: relayed tokens/s at 1,000 streams", "≥ 100,000",
			fmt.Sprintf("%.0f (direct %.0f, reference proxy %.0f; saturated); the gateway relays %.0f tokens per CPU-second, the reference proxy %.0f",
				sat.HAPA.TokenRate(), sat.Direct.TokenRate(), sat.Ref.TokenRate(), perCPU, refPerCPU),
			Check(sat.HAPA.TokenRate() >= 100000)})
	ar := AddedRatio(h, rf, d, 0.5)
	measured := fmt.Sprintf("%.2f× (HAPA adds %s, the reference proxy %s, p50)", ar, Ms(added), Ms(Added(rf, d, 0.5)))
	if pacedBase != nil {
		measured += fmt.Sprintf("; the baseline build %.2f× (adds %s)", AddedRatio(&pacedBase.Res.TTFT, rf, d, 0.5), Ms(Added(&pacedBase.Res.TTFT, d, 0.5)))
	}
	s.rep.Goals = append(s.rep.Goals, Goal{"streaming: added TTFT p50 at 1,000 streams, HAPA / the reference proxy (same rounds)",
		"≤ 1.2×", measured, Check(ar > 0 && ar <= 1.2 && paced.HAPA.ErrorCount() == 0)})
	ttft := Table{Header: []string{"TTFT", "p50", "p90", "p99", "max"}}
	for _, r := range []struct {
		n string
		h *Hist
	}{{"HAPA", h}, {"direct", d}, {"reference proxy", rf}} {
		ttft.Rows = append(ttft.Rows, []string{r.n, Ms(r.h.Quantile(0.5)), Ms(r.h.Quantile(0.9)), Ms(r.h.Quantile(0.99)), Ms(r.h.Max())})
	}
	if pacedBase != nil {
		b := &pacedBase.Res.TTFT
		ttft.Rows = append(ttft.Rows, []string{"baseline build", Ms(b.Quantile(0.5)), Ms(b.Quantile(0.9)), Ms(b.Quantile(0.99)), Ms(b.Max())})
	}
	ttft.Rows = append(ttft.Rows, []string{"added by HAPA", Ms(Added(h, d, 0.5)), Ms(Added(h, d, 0.9)), Ms(Added(h, d, 0.99)), ""},
		[]string{"added by the reference proxy", Ms(Added(rf, d, 0.5)), Ms(Added(rf, d, 0.9)), Ms(Added(rf, d, 0.99)), ""})
	if pacedBase != nil {
		b := &pacedBase.Res.TTFT
		ttft.Rows = append(ttft.Rows, []string{"added by the baseline build", Ms(Added(b, d, 0.5)), Ms(Added(b, d, 0.9)), Ms(Added(b, d, 0.99)), ""})
	}
	s.rep.Sections = append(s.rep.Sections, Section{Title: "(b) Streaming at 1,000 concurrent streams",
		Text: fmt.Sprintf("Closed loop, 1,000 streams open, their first starts spread over one stream's length "+
			"(2 s paced, 1 s saturated; rounds of 6 s) so that they stay spread, as editors' are; all 1,000 starting in "+
			"one instant would stay in step and measure a burst of 1,000 simultaneous starts every stream length. HAPA: SSE `POST /api/v1/code/generate/stream` "+
			"(unique prompts, temperature 0.7); direct: HAPA's own upstream request (recorded, see (a)) with the same "+
			"max_tokens, sent to the simulator; reference proxy: the same SSE route on `hapa bench refproxy` (see (a)), which relays each "+
			"chunk with text as one `type:token` event, one write and flush each, and nothing else. Rounds rotate the three sides. TTFT is measured from the request's start to the first token event (HAPA `type:token`, "+
			"vLLM the first chunk with text); tokens/s counts completion tokens from the final usage.\n\n"+
			"**Paced** (added TTFT): the simulator sends a token every 50 ms, max_tokens 40 (2 s streams), so 1,000 "+
			"streams offer 20,000 tokens/s. Gateway CPU %.0f %% of a core (reference proxy %.0f %%), peak RSS %s.\n\n"+
			"**Saturated** (relay throughput): a token every 5 ms, max_tokens 200, so 1,000 streams offer 200,000 "+
			"tokens/s — more than the machine can produce and relay; the simulator and the load generator take their "+
			"share of the 2 cores. Gateway CPU %.0f %% of a core (reference proxy %.0f %%), peak RSS %s; %.0f relayed "+
			"tokens per gateway CPU-second (the relay's capacity per core if it had one to itself; reference proxy %.0f).",
			paced.GatewayCPUPercent(), paced.RefCPUPercent(), MiB(paced.PeakRSS), sat.GatewayCPUPercent(), sat.RefCPUPercent(), MiB(sat.PeakRSS), perCPU, refPerCPU),
		Tables: []Table{withBase(compareTable(paced, "paced"), pacedBase), ttft, withBase(compareTable(sat, "saturated"), satBase)}})
	return nil
}

// streamRun compares SSE through HAPA and through the reference proxy (and, with a
// baseline build, through its gateway) with the simulator directly at 1,000 streams.
// base is the baseline build's side, nil without one.
func (s *suite) streamRun(ctx context.Context, name string, simArgs []string, maxTokens int, rampUp time.Duration) (c *Comparison, base *Side, err error) {
	o, err := s.refOpts(name, simArgs, maxTokens)
	if err != nil {
		return nil, nil, err
	}
	o.Baseline = s.o.Baseline
	st, err := StartStack(ctx, o)
	if err != nil {
		return nil, nil, err
	}
	defer st.Stop()
	body := GenBody(benchPrompt, 0.7, maxTokens, true)
	d := NewSide("direct", VLLMPathTarget(s.hc, st.SimURL(), s.up.Path, s.up.Body(maxTokens, true)), 0)
	h := NewSide("HAPA", SSETarget(s.hc, st.GW.URL, DemoKey, body), st.GW.Pid())
	ref := NewSide("reference proxy", SSETarget(s.hc, st.Ref.URL, DemoKey, body), st.Ref.Pid())
	sides := []*Side{d, h, ref}
	if st.Base != nil {
		base = NewSide("baseline build", SSETarget(s.hc, st.Base.URL, DemoKey, body), st.Base.Pid())
		sides = append(sides, base)
	}
	for _, sd := range sides {
		Run(ctx, Load{Concurrency: 200, Duration: s.d(time.Second), First: 1 << 20}, sd.T)
	}
	// Streams start spread over one stream's length (rampUp), then stay spread: the
	// steady state of 1,000 editors, not 1,000 simultaneous starts every stream length.
	// Three rounds rotate three sides; four a fourth.
	Rotate(ctx, Load{Concurrency: 1000, Duration: s.d(6 * time.Second), RampUp: rampUp, First: 1 << 21}, max(3, len(sides)), sides)
	c = &Comparison{HAPA: h.Res, Direct: d.Res, Ref: ref.Res, Rounds: max(3, len(sides)),
		GatewayCPU: h.CPU, GatewayWall: h.Wall, PeakRSS: h.PeakRSS, RefCPU: ref.CPU, RefWall: ref.Wall}
	s.logf("  %s: TTFT p50 HAPA %s direct %s reference %s; tokens/s HAPA %.0f direct %.0f reference %.0f%s", name,
		Ms(c.HAPA.TTFT.Quantile(0.5)), Ms(c.Direct.TTFT.Quantile(0.5)), Ms(c.Ref.TTFT.Quantile(0.5)),
		c.HAPA.TokenRate(), c.Direct.TokenRate(), c.Ref.TokenRate(), baseTTFT(base))
	return c, base, nil
}

func baseTTFT(base *Side) string {
	if base == nil {
		return ""
	}
	return fmt.Sprintf("; baseline build TTFT p50 %s, %.0f tokens/s", Ms(base.Res.TTFT.Quantile(0.5)), base.Res.TokenRate())
}

// AddedRatio is what a adds over direct at quantile q divided by what ref adds (0
// when ref adds nothing or less).
func AddedRatio(a, ref, direct *Hist, q float64) float64 {
	den := Added(ref, direct, q)
	if den <= 0 {
		return 0
	}
	return float64(Added(a, direct, q)) / float64(den)
}
