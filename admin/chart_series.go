package admin

import (
	"strconv"
	"strings"
	"time"
)

// SeriesChart is a chart of several series over the same buckets, precomputed for
// inline SVG like ChartView: bar series are stacked, line series drawn over them, and
// a legend names each series (its colour class s1…s4 is in admin.css).
type SeriesChart struct {
	Title  string
	Unit   string // of the y axis, e.g. "requests", "ms"
	Width  int
	Height int
	Max    float64
	Bars   []SeriesBar
	Lines  []SeriesLine
	Legend []SeriesLegend
	Ticks  []ChartTick
	Empty  bool
}

// SeriesBar is one stacked segment.
type SeriesBar struct {
	X, Y, W, H float64
	Class      string
	Label      string // tooltip
}

// SeriesLine is one line series as SVG polyline points.
type SeriesLine struct {
	Class  string
	Points string
	Label  string
}

// SeriesLegend names a series.
type SeriesLegend struct {
	Class, Name string
}

// Series is one input series: a value per bucket (for a line, a negative value is a
// bucket without data).
type Series struct {
	Name   string
	Class  string // s1…s4
	Values []float64
	Line   bool
}

// newSeriesChart lays out series over buckets starting at starts.
func newSeriesChart(title, unit string, starts []time.Time, layout string, series ...Series) SeriesChart {
	return newScaledChart(title, unit, 0, starts, layout, series...)
}

// newScaledChart is newSeriesChart with a y axis that reaches at least ceiling (a
// rate in percent reaches 100 whatever its values).
func newScaledChart(title, unit string, ceiling float64, starts []time.Time, layout string, series ...Series) SeriesChart {
	c := SeriesChart{Title: title, Unit: unit, Width: 600, Height: 170}
	n := len(starts)
	stack := make([]float64, n)
	for _, s := range series {
		c.Legend = append(c.Legend, SeriesLegend{Class: s.Class, Name: s.Name})
		for i := 0; i < n && i < len(s.Values); i++ {
			if s.Line {
				c.Max = max(c.Max, s.Values[i])
			} else {
				stack[i] += s.Values[i]
				c.Max = max(c.Max, stack[i])
			}
		}
	}
	c.Empty = c.Max == 0 || n == 0
	if !c.Empty {
		c.Max = max(c.Max, ceiling)
	}
	if c.Empty {
		return c
	}
	plotH := float64(c.Height - chartPad - chartTop)
	step := float64(c.Width) / float64(n)
	gap := min(2, step*0.2)
	y := func(v float64) float64 { return chartTop + plotH - plotH*v/c.Max }
	base := make([]float64, n)
	for _, s := range series {
		if s.Line { // a negative value is a gap: the line breaks there
			var pts []string
			flush := func() {
				if len(pts) == 1 { // a lone point: a short dash, so it shows
					x, yv, _ := strings.Cut(pts[0], ",")
					pts = []string{x + "," + yv, x + "," + yv}
				}
				if len(pts) > 0 {
					c.Lines = append(c.Lines, SeriesLine{Class: s.Class, Points: strings.Join(pts, " "), Label: s.Name})
				}
				pts = nil
			}
			for i := 0; i < n && i < len(s.Values); i++ {
				if s.Values[i] < 0 {
					flush()
					continue
				}
				pts = append(pts, f1(float64(i)*step+step/2)+","+f1(y(s.Values[i])))
			}
			flush()
			continue
		}
		for i := 0; i < n && i < len(s.Values); i++ {
			v := s.Values[i]
			if v <= 0 {
				continue
			}
			h := max(plotH*v/c.Max, 1)
			c.Bars = append(c.Bars, SeriesBar{X: float64(i)*step + gap/2, Y: y(base[i]) - h, W: step - gap, H: h, Class: s.Class,
				Label: starts[i].UTC().Format(layout) + " UTC, " + s.Name + ": " + num(v)})
			base[i] += v
		}
	}
	last := n - 1
	c.Ticks = []ChartTick{
		{X: 0, Text: starts[0].UTC().Format(layout), Anchor: "start"},
		{X: float64(c.Width) / 2, Text: starts[last/2].UTC().Format(layout), Anchor: "middle"},
		{X: float64(c.Width), Text: starts[last].UTC().Format(layout) + " UTC", Anchor: "end"},
	}
	return c
}

// num formats a chart value: whole numbers as they are, others with one decimal.
func num(v float64) string {
	if v == float64(int64(v)) {
		return strconv.FormatInt(int64(v), 10)
	}
	return ftoa(v, 1)
}
