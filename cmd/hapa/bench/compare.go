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
	d, h := NewSide("direct", direct, 0), NewSide("HAPA", hapa, pid)
	sides := []*Side{d, h}
	var rs *Side
	if ref != nil {
		rs = NewSide("reference proxy", ref, refPid)
		sides = append(sides, rs)
	}
	Rotate(ctx, l, rounds, sides)
	c := &Comparison{HAPA: h.Res, Direct: d.Res, Rounds: rounds,
		GatewayCPU: h.CPU, GatewayWall: h.Wall, PeakRSS: h.PeakRSS}
	if rs != nil {
		c.Ref, c.RefCPU, c.RefWall = rs.Res, rs.CPU, rs.Wall
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
