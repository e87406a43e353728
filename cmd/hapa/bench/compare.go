package bench

import (
	"context"
	"time"
)

// Comparison is one load run alternately through HAPA and straight at the upstream,
// and optionally through the reference proxy (RefProxy) as well.
type Comparison struct {
	HAPA, Direct *Result
	Ref          *Result // the reference proxy's side; nil when the comparison has none
	Rounds       int
	// Gateway is the gateway process during HAPA's rounds only (zero without a pid).
	GatewayCPU  time.Duration // CPU consumed
	GatewayWall time.Duration // wall time of those rounds
	PeakRSS     int64
	// RefCPU and RefWall are the reference proxy's process during its rounds.
	RefCPU, RefWall time.Duration
}

// GatewayCPUPercent is the gateway's CPU use during HAPA's rounds, % of one core.
func (c *Comparison) GatewayCPUPercent() float64 { return percent(c.GatewayCPU, c.GatewayWall) }

// RefCPUPercent is the reference proxy's CPU use during its rounds, % of one core.
func (c *Comparison) RefCPUPercent() float64 { return percent(c.RefCPU, c.RefWall) }

func percent(cpu, wall time.Duration) float64 {
	if wall <= 0 {
		return 0
	}
	return 100 * float64(cpu) / float64(wall)
}

// Compare runs l (Duration per round) rounds times against each target, alternating
// which goes first, so that drift in the machine's speed falls on both sides.
// pid, when not 0, is the local gateway, watched during HAPA's rounds.
func Compare(ctx context.Context, l Load, rounds int, hapa, direct Target, pid int) *Comparison {
	return CompareRef(ctx, l, rounds, hapa, direct, nil, pid, 0)
}

// CompareRef is Compare with a third side, ref (nil: none), whose process refPid is
// watched during its rounds. The order of the sides rotates every round, so with a
// multiple of three rounds each side goes first, second and last equally often.
func CompareRef(ctx context.Context, l Load, rounds int, hapa, direct, ref Target, pid, refPid int) *Comparison {
	c := &Comparison{HAPA: &Result{}, Direct: &Result{}, Rounds: rounds}
	type side struct {
		t    Target
		res  *Result
		pid  int
		cpu  *time.Duration
		wall *time.Duration
		peak *int64
	}
	var refPeak int64
	sides := []side{{t: direct, res: c.Direct}, {t: hapa, res: c.HAPA, pid: pid, cpu: &c.GatewayCPU, wall: &c.GatewayWall, peak: &c.PeakRSS}}
	if ref != nil {
		c.Ref = &Result{}
		sides = append(sides, side{t: ref, res: c.Ref, pid: refPid, cpu: &c.RefCPU, wall: &c.RefWall, peak: &refPeak})
	}
	next := l.First
	for r := range rounds {
		for i := range sides {
			o := sides[(i+r)%len(sides)]
			if ctx.Err() != nil {
				return c
			}
			l.First = next
			watching := o.pid != 0
			stop := func() ProcUsage { return ProcUsage{} }
			if watching {
				stop = Watch(ctx, o.pid, 100*time.Millisecond)
			}
			res := Run(ctx, l, o.t)
			if watching {
				u := stop()
				*o.cpu += u.After.CPU - u.Before.CPU
				*o.wall += u.After.When.Sub(u.Before.When)
				*o.peak = max(*o.peak, u.PeakRSS)
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
