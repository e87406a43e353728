package bench

import (
	"context"
	"time"
)

// Comparison is one load run alternately through HAPA and straight at the upstream.
type Comparison struct {
	HAPA, Direct *Result
	Rounds       int
	// Gateway is the gateway process during HAPA's rounds only (zero without a pid).
	GatewayCPU  time.Duration // CPU consumed
	GatewayWall time.Duration // wall time of those rounds
	PeakRSS     int64
}

// GatewayCPUPercent is the gateway's CPU use during HAPA's rounds, % of one core.
func (c *Comparison) GatewayCPUPercent() float64 {
	if c.GatewayWall <= 0 {
		return 0
	}
	return 100 * float64(c.GatewayCPU) / float64(c.GatewayWall)
}

// Compare runs l (Duration per round) rounds times against each target, alternating
// which goes first, so that drift in the machine's speed falls on both sides.
// pid, when not 0, is the local gateway, watched during HAPA's rounds.
func Compare(ctx context.Context, l Load, rounds int, hapa, direct Target, pid int) *Comparison {
	c := &Comparison{HAPA: &Result{}, Direct: &Result{}, Rounds: rounds}
	next := l.First
	for r := range rounds {
		order := []struct {
			t   Target
			res *Result
		}{{direct, c.Direct}, {hapa, c.HAPA}}
		if r%2 == 1 {
			order[0], order[1] = order[1], order[0]
		}
		for _, o := range order {
			if ctx.Err() != nil {
				return c
			}
			l.First = next
			watching := o.res == c.HAPA && pid != 0
			stop := func() ProcUsage { return ProcUsage{} }
			if watching {
				stop = Watch(ctx, pid, 100*time.Millisecond)
			}
			res := Run(ctx, l, o.t)
			if watching {
				u := stop()
				c.GatewayCPU += u.After.CPU - u.Before.CPU
				c.GatewayWall += u.After.When.Sub(u.Before.When)
				c.PeakRSS = max(c.PeakRSS, u.PeakRSS)
			}
			next = res.Next
			o.res.Merge(res)
		}
	}
	return c
}

// Added is HAPA's latency minus the direct latency at quantile q.
func Added(h, d *Hist, q float64) time.Duration { return h.Quantile(q) - d.Quantile(q) }

// Ratio is HAPA's latency over the direct latency at quantile q (0 when direct is 0).
func Ratio(h, d *Hist, q float64) float64 {
	dv := d.Quantile(q)
	if dv <= 0 {
		return 0
	}
	return float64(h.Quantile(q)) / float64(dv)
}
