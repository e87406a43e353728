package admin

import "time"

// ChartView is a bar chart precomputed for inline SVG: the template only places
// what is computed here, so charts need no JavaScript and no style attributes.
type ChartView struct {
	Title  string // accessible name
	Width  int
	Height int
	Bars   []ChartBar
	Max    int64
	Ticks  []ChartTick
	Empty  bool // every bucket is zero
	Total  int64
}

// ChartBar is one bar; Err draws it in the error colour.
type ChartBar struct {
	X, Y, W, H float64
	Label      string // tooltip: time and count
	Err        bool
}

// ChartTick is an x-axis label; Anchor is its SVG text-anchor (start, middle, end)
// so the first and last labels stay inside the chart.
type ChartTick struct {
	X      float64
	Text   string
	Anchor string
}

// chartPad is the space below the plot for the axis labels, chartTop the space above
// it for the "max" label.
const (
	chartPad = 14
	chartTop = 14
)

// newBarChart lays out buckets as bars; err colours them as errors. Times on the axis
// are UTC (the chart is an image; the page's table has localised times).
func newBarChart(title string, buckets []Bucket, err bool, layout string) ChartView {
	c := ChartView{Title: title, Width: 600, Height: 150}
	for _, b := range buckets {
		c.Max = max(c.Max, b.Count)
		c.Total += b.Count
	}
	c.Empty = c.Total == 0
	if len(buckets) == 0 {
		return c
	}
	plotH := float64(c.Height - chartPad - chartTop)
	step := float64(c.Width) / float64(len(buckets))
	gap := min(2, step*0.2)
	for i, b := range buckets {
		h := 0.0
		if c.Max > 0 {
			h = plotH * float64(b.Count) / float64(c.Max)
		}
		if b.Count > 0 && h < 1 {
			h = 1
		}
		c.Bars = append(c.Bars, ChartBar{
			X: float64(i)*step + gap/2, Y: chartTop + plotH - h, W: step - gap, H: h, Err: err,
			Label: b.Start.UTC().Format(layout) + " UTC: " + itoa(b.Count),
		})
	}
	last := len(buckets) - 1
	c.Ticks = []ChartTick{
		{X: 0, Text: buckets[0].Start.UTC().Format(layout), Anchor: "start"},
		{X: float64(c.Width) / 2, Text: buckets[last/2].Start.UTC().Format(layout), Anchor: "middle"},
		{X: float64(c.Width), Text: buckets[last].Start.UTC().Format(layout) + " UTC", Anchor: "end"},
	}
	return c
}

// chartLayout picks an axis time format for a bucket step.
func chartLayout(step time.Duration) string {
	if step >= 24*time.Hour {
		return "Jan 2"
	}
	if step >= time.Hour {
		return "Jan 2 15h"
	}
	return "15:04"
}
