package admin

import (
	"strings"
	"testing"
	"time"
)

func TestSeriesChart(t *testing.T) {
	starts := make([]time.Time, 6)
	for i := range starts {
		starts[i] = time.Date(2026, 5, 1, i, 0, 0, 0, time.UTC)
	}
	c := newSeriesChart("t", "requests", starts, chartLayout(time.Hour),
		Series{Name: "a", Class: "s1", Values: []float64{1, 2, 0, 4, 0, 1}},
		Series{Name: "b", Class: "s2", Values: []float64{1, 0, 0, 4, 0, 0}},
		Series{Name: "p50", Class: "s3", Line: true, Values: []float64{5, 6, -1, 9, -1, -1}})
	if c.Max != 9 || c.Empty {
		t.Fatalf("max %v", c.Max) // the line's 9 beats the stack's 8
	}
	if len(c.Bars) != 6 {
		t.Fatalf("%d bars (zeros draw none)", len(c.Bars))
	}
	// Stacked: the second series sits on the first.
	if a, b := c.Bars[0], c.Bars[4]; b.Class != "s2" || b.Y+b.H > a.Y+0.01 {
		t.Fatalf("not stacked: %+v under %+v", b, a)
	}
	if len(c.Lines) != 2 || strings.Count(c.Lines[0].Points, ",") != 2 || strings.Count(c.Lines[1].Points, ",") != 2 {
		t.Fatalf("the line does not break at gaps: %+v", c.Lines)
	}
	if len(c.Legend) != 3 {
		t.Fatalf("legend %+v", c.Legend)
	}
	if e := newSeriesChart("t", "x", starts, "", Series{Values: make([]float64, 6)}); !e.Empty {
		t.Fatal("all zero is not empty")
	}
}
