package bench

import (
	"testing"
	"time"
)

func TestHistQuantile(t *testing.T) {
	ms := time.Millisecond
	hundred := func() *Hist {
		var h Hist
		for i := 100; i >= 1; i-- { // unsorted on purpose
			h.Add(time.Duration(i) * ms)
		}
		return &h
	}
	tests := []struct {
		name string
		h    *Hist
		q    float64
		want time.Duration
	}{
		{"empty", &Hist{}, 0.5, 0},
		{"one sample p50", func() *Hist { var h Hist; h.Add(7 * ms); return &h }(), 0.5, 7 * ms},
		{"one sample p99", func() *Hist { var h Hist; h.Add(7 * ms); return &h }(), 0.99, 7 * ms},
		{"1..100 p50", hundred(), 0.50, 50 * ms},
		{"1..100 p90", hundred(), 0.90, 90 * ms},
		{"1..100 p99", hundred(), 0.99, 99 * ms},
		{"1..100 p100", hundred(), 1, 100 * ms},
		{"1..100 tiny q is the minimum", hundred(), 0.0001, 1 * ms},
		{"four samples p50 is the 2nd", func() *Hist {
			var h Hist
			for _, v := range []int{40, 10, 30, 20} {
				h.Add(time.Duration(v) * ms)
			}
			return &h
		}(), 0.5, 20 * ms},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.h.Quantile(tt.q); got != tt.want {
				t.Fatalf("Quantile(%v) = %v, want %v", tt.q, got, tt.want)
			}
		})
	}
}

func TestHistSummaryAndMerge(t *testing.T) {
	var a, b Hist
	for i := 1; i <= 50; i++ {
		a.Add(time.Duration(i) * time.Microsecond)
		b.Add(time.Duration(50+i) * time.Microsecond)
	}
	a.Quantile(0.5) // sorts; Merge must unsort
	a.Merge(&b)
	s := a.Summary()
	want := Summary{N: 100, P50: 50 * time.Microsecond, P90: 90 * time.Microsecond, P99: 99 * time.Microsecond,
		Max: 100 * time.Microsecond, Avg: 50500 * time.Nanosecond}
	if s != want {
		t.Fatalf("Summary = %+v, want %+v", s, want)
	}
}

func TestAddedAndRatio(t *testing.T) {
	var h, d Hist
	h.Add(3 * time.Millisecond)
	d.Add(2 * time.Millisecond)
	if got := Added(&h, &d, 0.5); got != time.Millisecond {
		t.Fatalf("Added = %v", got)
	}
	if got := Ratio(&h, &d, 0.5); got != 1.5 {
		t.Fatalf("Ratio = %v", got)
	}
	if got := Ratio(&h, &Hist{}, 0.5); got != 0 {
		t.Fatalf("Ratio over empty = %v", got)
	}
}
