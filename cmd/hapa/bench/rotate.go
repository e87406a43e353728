package bench

import (
	"context"
	"time"
)

// Side is one target of a rotating comparison and what its rounds measured: the
// load generator's result and, when Pid is not 0, the CPU that process used during
// this side's rounds only.
type Side struct {
	Name string
	T    Target
	Pid  int // the process serving T (0: not watched)

	Res     *Result
	CPU     time.Duration // CPU the process used during this side's rounds
	Wall    time.Duration // wall time of those rounds
	PeakRSS int64
	// Rounds holds each round's result in order, for per-round ratios (RoundRatios).
	Rounds []*Result
	// RoundCPU is the process's CPU during each round (parallel to Rounds).
	RoundCPU []time.Duration
}

// NewSide is a side named name that sends t, served by process pid (0: unwatched).
func NewSide(name string, t Target, pid int) *Side {
	return &Side{Name: name, T: t, Pid: pid, Res: &Result{Errors: map[string]int{}}}
}

// CPUPercent is the process's CPU use during this side's rounds, % of one core.
func (s *Side) CPUPercent() float64 { return percent(s.CPU, s.Wall) }

// PerCPUSecond is the side's successful requests per CPU-second of its process (0
// when none was measured).
func (s *Side) PerCPUSecond() float64 { return PerCPUSecond(float64(s.Res.OK), s.CPU) }

// TokensPerCPUSecond is the side's relayed completion tokens per CPU-second of its
// process.
func (s *Side) TokensPerCPUSecond() float64 { return PerCPUSecond(float64(s.Res.Tokens), s.CPU) }

// CPUPerToken is the process's CPU per relayed completion token (0 without tokens).
func (s *Side) CPUPerToken() time.Duration {
	if s.Res.Tokens <= 0 {
		return 0
	}
	return s.CPU / time.Duration(s.Res.Tokens)
}

// PerCPUSecond is n per CPU-second of cpu (0 when cpu is 0).
func PerCPUSecond(n float64, cpu time.Duration) float64 {
	if cpu <= 0 {
		return 0
	}
	return n / cpu.Seconds()
}

// Rotate runs l (Duration per round) rounds times against every side, rotating the
// order every round, so that with a multiple of len(sides) rounds each side takes
// each position equally often and drift in the machine's speed falls on all of them.
// Each round of a side starts where the last round of any side left off (l.First),
// so prompts stay unique across sides.
func Rotate(ctx context.Context, l Load, rounds int, sides []*Side) {
	next := l.First
	for r := range rounds {
		for i := range sides {
			o := sides[(i+r)%len(sides)]
			if ctx.Err() != nil {
				return
			}
			l.First = next
			stop := Watch(ctx, o.Pid, 100*time.Millisecond)
			res := Run(ctx, l, o.T)
			u := stop()
			if o.Pid != 0 {
				o.CPU += u.After.CPU - u.Before.CPU
				o.Wall += u.After.When.Sub(u.Before.When)
				o.PeakRSS = max(o.PeakRSS, u.PeakRSS)
			}
			o.Rounds = append(o.Rounds, res)
			o.RoundCPU = append(o.RoundCPU, u.After.CPU-u.Before.CPU)
			next = res.Next
			o.Res.Merge(res)
		}
	}
}
