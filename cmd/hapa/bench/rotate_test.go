package bench

import (
	"context"
	"strings"
	"testing"
	"time"
)

func TestMedian(t *testing.T) {
	for _, tc := range []struct {
		name string
		in   []float64
		want float64
	}{
		{"none", nil, 0},
		{"one", []float64{2}, 2},
		{"odd", []float64{3, 1, 2}, 2},
		{"even", []float64{4, 1, 3, 2}, 2.5},
	} {
		t.Run(tc.name, func(t *testing.T) {
			in := append([]float64(nil), tc.in...)
			if got := Median(tc.in); got != tc.want {
				t.Fatalf("Median(%v) = %v, want %v", tc.in, got, tc.want)
			}
			for i := range in {
				if in[i] != tc.in[i] {
					t.Fatal("Median reordered its argument")
				}
			}
		})
	}
}

// side builds a Side from per-round (answers, seconds, CPU) triples.
func side(name string, rounds ...[3]float64) *Side {
	s := NewSide(name, nil, 0)
	for _, r := range rounds {
		res := &Result{OK: int(r[0]), Requests: int(r[0]), Elapsed: time.Duration(r[1] * float64(time.Second)), Tokens: int64(r[0]) * 10}
		cpu := time.Duration(r[2] * float64(time.Second))
		s.Rounds, s.RoundCPU = append(s.Rounds, res), append(s.RoundCPU, cpu)
		s.Res.Merge(res)
		s.CPU += cpu
	}
	return s
}

func TestCompared(t *testing.T) {
	// a: 1,300 and 2,600 answers in 1 s rounds on 0.5 and 1 CPU-s; b: 1,000 and 2,000
	// on 0.5 and 1: a is 1.3× b's throughput every round, and 1.3× its per-CPU figure.
	a := side("a", [3]float64{1300, 1, 0.5}, [3]float64{2600, 1, 1})
	b := side("b", [3]float64{1000, 1, 0.5}, [3]float64{2000, 1, 1})
	for _, tc := range []struct {
		name         string
		fig          func(*Result, time.Duration) float64
		pooled, medi float64
	}{
		{"throughput", Throughput, 1.3, 1.3},
		{"per CPU-second", PerCPU, 1.3, 1.3},
		{"tokens per CPU-second", TokensCPU, 1.3, 1.3},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := Compared(a, b, tc.fig)
			if !near(f.Pooled, tc.pooled) || !near(f.Median, tc.medi) || f.Rounds != 2 {
				t.Fatalf("got %+v, want pooled %v median %v over 2 rounds", f, tc.pooled, tc.medi)
			}
		})
	}
	t.Run("rounds differ from the pooled figure", func(t *testing.T) {
		// Round 1 2×, round 2 1×, round 3 1×: median 1; pooled (4+1+1)/(2+1+1) = 1.5.
		a := side("a", [3]float64{4, 1, 1}, [3]float64{1, 1, 1}, [3]float64{1, 1, 1})
		b := side("b", [3]float64{2, 1, 1}, [3]float64{1, 1, 1}, [3]float64{1, 1, 1})
		f := Compared(a, b, Throughput)
		if !near(f.Median, 1) || !near(f.Pooled, 1.5) {
			t.Fatalf("got %+v", f)
		}
		if got, want := f.String(), "1.50× (median of 3 rounds 1.00×)"; got != want {
			t.Fatalf("String() = %q, want %q", got, want)
		}
	})
	t.Run("no CPU measured", func(t *testing.T) {
		z := side("z", [3]float64{10, 1, 0})
		if f := Compared(a, z, PerCPU); f.Pooled != 0 || f.Rounds != 0 {
			t.Fatalf("a zero denominator must give no ratio, got %+v", f)
		}
	})
}

func near(a, b float64) bool { return a-b < 1e-9 && b-a < 1e-9 }

func TestSideFigures(t *testing.T) {
	s := side("s", [3]float64{500, 1, 0.25})
	if got := s.PerCPUSecond(); !near(got, 2000) {
		t.Fatalf("PerCPUSecond = %v, want 2000", got)
	}
	if got := s.TokensPerCPUSecond(); !near(got, 20000) {
		t.Fatalf("TokensPerCPUSecond = %v, want 20000", got)
	}
	if got := s.CPUPerToken(); got != 50*time.Microsecond {
		t.Fatalf("CPUPerToken = %v, want 50µs", got)
	}
	if got := NewSide("empty", nil, 0).CPUPerToken(); got != 0 {
		t.Fatalf("CPUPerToken without tokens = %v, want 0", got)
	}
}

func TestAddedRatio(t *testing.T) {
	hist := func(ms ...int) *Hist {
		var h Hist
		for _, v := range ms {
			h.Add(time.Duration(v) * time.Millisecond)
		}
		return &h
	}
	d, ref, a := hist(1, 1, 1), hist(3, 3, 3), hist(4, 4, 4)
	if got := AddedRatio(a, ref, d, 0.5); !near(got, 1.5) {
		t.Fatalf("AddedRatio = %v, want 1.5 (3 ms added over 2 ms)", got)
	}
	if got := AddedRatio(a, d, d, 0.5); got != 0 {
		t.Fatalf("AddedRatio with a reference adding nothing = %v, want 0", got)
	}
}

func TestSidesTable(t *testing.T) {
	s := side("HAPA", [3]float64{2000, 2, 1})
	s.Wall = 2 * time.Second
	s.Res.Latency.Add(3 * time.Millisecond)
	tb := sidesTable("64 in flight", []*Side{s}, true)
	if len(tb.Header) != len(tb.Rows[0]) {
		t.Fatalf("header has %d cells, row %d", len(tb.Header), len(tb.Rows[0]))
	}
	var b strings.Builder
	writeTable(&b, tb)
	want := "| HAPA | 2000 | 0 | 1000 | 3.000 ms | 3.000 ms | – | 50 % | 1.00 | 2000 | 10000 | 20000 | 50.0 µs |\n"
	if !strings.Contains(b.String(), want) {
		t.Fatalf("table:\n%s\nwant row:\n%s", b.String(), want)
	}
}

// TestRotateOrder checks that every side takes every position once over as many
// rounds as sides, and that request numbers continue across sides.
func TestRotateOrder(t *testing.T) {
	var order []string
	var firsts []int
	mk := func(name string) *Side {
		return NewSide(name, TargetFunc(func(_ context.Context, i int) Sample {
			order = append(order, name) // one worker, one request a round: no race
			firsts = append(firsts, i)
			return Sample{}
		}), 0)
	}
	sides := []*Side{mk("a"), mk("b"), mk("c")}
	Rotate(context.Background(), Load{Concurrency: 1, MaxRequests: 1, Duration: time.Hour, First: 7}, 3, sides)
	if got, want := strings.Join(order, ""), "abcbcacab"; got != want {
		t.Fatalf("order %q, want %q", got, want)
	}
	for i, f := range firsts {
		if f != 7+i {
			t.Fatalf("request numbers %v, want consecutive from 7", firsts)
		}
	}
	for _, s := range sides {
		if len(s.Rounds) != 3 || s.Res.Requests != 3 {
			t.Fatalf("%s: %d rounds, %d requests; want 3 and 3", s.Name, len(s.Rounds), s.Res.Requests)
		}
	}
}
