package bench

import (
	"math"
	"slices"
	"time"
)

// Hist collects durations and answers percentiles over all of them (nearest rank). It
// keeps every sample: a suite run records at most a few hundred thousand.
type Hist struct {
	xs     []time.Duration
	sorted bool
}

// Add records one sample.
func (h *Hist) Add(d time.Duration) {
	h.xs = append(h.xs, d)
	h.sorted = false
}

// Merge adds every sample of o.
func (h *Hist) Merge(o *Hist) {
	h.xs = append(h.xs, o.xs...)
	h.sorted = false
}

// Count is the number of samples.
func (h *Hist) Count() int { return len(h.xs) }

func (h *Hist) sort() {
	if !h.sorted {
		slices.Sort(h.xs)
		h.sorted = true
	}
}

// Quantile returns the nearest-rank q-quantile (0 < q ≤ 1): the smallest sample such
// that at least q of all samples are ≤ it. Zero without samples.
func (h *Hist) Quantile(q float64) time.Duration {
	if len(h.xs) == 0 {
		return 0
	}
	h.sort()
	rank := int(math.Ceil(q * float64(len(h.xs))))
	rank = min(max(rank, 1), len(h.xs))
	return h.xs[rank-1]
}

// Max is the largest sample.
func (h *Hist) Max() time.Duration {
	if len(h.xs) == 0 {
		return 0
	}
	h.sort()
	return h.xs[len(h.xs)-1]
}

// Mean is the arithmetic mean.
func (h *Hist) Mean() time.Duration {
	if len(h.xs) == 0 {
		return 0
	}
	var s time.Duration
	for _, x := range h.xs {
		s += x
	}
	return s / time.Duration(len(h.xs))
}

// Summary is the fixed set of figures reported for one latency distribution.
type Summary struct {
	N                       int
	P50, P90, P99, Max, Avg time.Duration
}

// Summary computes the report figures.
func (h *Hist) Summary() Summary {
	return Summary{N: h.Count(), P50: h.Quantile(0.50), P90: h.Quantile(0.90),
		P99: h.Quantile(0.99), Max: h.Max(), Avg: h.Mean()}
}
