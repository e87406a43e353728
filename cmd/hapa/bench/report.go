package bench

import (
	"fmt"
	"io"
	"slices"
	"strings"
	"time"
)

// Report is the content of docs/performance.md.
type Report struct {
	Title    string
	Intro    string
	Machine  [][2]string // label, value
	Commands []string
	Goals    []Goal
	Sections []Section
	Notes    string // closing Markdown (method, weaknesses, fix history)
}

// Section is one scenario.
type Section struct {
	Title  string
	Text   string
	Tables []Table
}

// Table is a Markdown table.
type Table struct {
	Header []string
	Rows   [][]string
}

// Goal is one performance target (docs/performance.md) and what the run measured against it.
type Goal struct {
	Name     string
	Target   string
	Measured string
	Status   GoalStatus
}

// GoalStatus is met, missed or not measured.
type GoalStatus int

// Goal outcomes.
const (
	NotMeasured GoalStatus = iota
	Met
	Missed
)

func (s GoalStatus) String() string {
	switch s {
	case Met:
		return "met"
	case Missed:
		return "**missed**"
	}
	return "not measured"
}

// Check returns Met when ok, else Missed.
func Check(ok bool) GoalStatus {
	if ok {
		return Met
	}
	return Missed
}

// Render writes the report as Markdown.
func (r *Report) Render(w io.Writer) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# %s\n\n", r.Title)
	if r.Intro != "" {
		b.WriteString(strings.TrimSpace(r.Intro) + "\n\n")
	}
	if len(r.Machine) > 0 {
		b.WriteString("## Machine\n\n")
		t := Table{Header: []string{"", ""}}
		for _, m := range r.Machine {
			t.Rows = append(t.Rows, []string{m[0], m[1]})
		}
		writeTable(&b, t)
	}
	if len(r.Commands) > 0 {
		b.WriteString("## Commands\n\n```sh\n")
		for _, c := range r.Commands {
			b.WriteString(c + "\n")
		}
		b.WriteString("```\n\n")
	}
	if len(r.Goals) > 0 {
		b.WriteString("## Goals\n\n")
		t := Table{Header: []string{"goal", "target", "measured", "status"}}
		for _, g := range r.Goals {
			t.Rows = append(t.Rows, []string{g.Name, g.Target, g.Measured, g.Status.String()})
		}
		writeTable(&b, t)
	}
	for _, s := range r.Sections {
		fmt.Fprintf(&b, "## %s\n\n", s.Title)
		if s.Text != "" {
			b.WriteString(strings.TrimSpace(s.Text) + "\n\n")
		}
		for _, t := range s.Tables {
			writeTable(&b, t)
		}
	}
	if r.Notes != "" {
		b.WriteString(strings.TrimSpace(r.Notes) + "\n")
	}
	_, err := io.WriteString(w, b.String())
	return err
}

func writeTable(b *strings.Builder, t Table) {
	row := func(cells []string) {
		b.WriteString("|")
		for _, c := range cells {
			b.WriteString(" " + strings.ReplaceAll(c, "|", `\|`) + " |")
		}
		b.WriteString("\n")
	}
	row(t.Header)
	b.WriteString("|")
	for range t.Header {
		b.WriteString("---|")
	}
	b.WriteString("\n")
	for _, r := range t.Rows {
		row(r)
	}
	b.WriteString("\n")
}

// Ms formats a duration in milliseconds with three decimals.
func Ms(d time.Duration) string { return fmt.Sprintf("%.3f ms", float64(d)/float64(time.Millisecond)) }

// MiB formats bytes in MiB.
func MiB(n int64) string { return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20)) }

// Errors formats an error map as "class×n, …" (or "0").
func Errors(m map[string]int) string {
	if len(m) == 0 {
		return "0"
	}
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s ×%d", k, m[k])
	}
	return strings.Join(parts, ", ")
}

// ResultHeader is the header of ResultRow.
var ResultHeader = []string{"target", "requests", "ok", "errors", "req/s", "p50", "p90", "p99", "max", "TTFT p50", "TTFT p99", "tokens/s"}

// ResultRow is one result as a table row.
func ResultRow(name string, r *Result) []string {
	s := r.Latency.Summary()
	ttft := "–"
	ttft99 := "–"
	if r.TTFT.Count() > 0 {
		ttft, ttft99 = Ms(r.TTFT.Quantile(0.5)), Ms(r.TTFT.Quantile(0.99))
	}
	return []string{name, fmt.Sprint(r.Requests), fmt.Sprint(r.OK), Errors(r.Errors),
		fmt.Sprintf("%.0f", r.Throughput()), Ms(s.P50), Ms(s.P90), Ms(s.P99), Ms(s.Max),
		ttft, ttft99, fmt.Sprintf("%.0f", r.TokenRate())}
}

// WriteText prints a result for the terminal (hapa bench run).
func WriteText(w io.Writer, name string, r *Result) {
	s := r.Latency.Summary()
	fmt.Fprintf(w, "%s: %d requests, %d ok, errors: %s, %.1f s, %.0f req/s, %.0f tokens/s\n",
		name, r.Requests, r.OK, Errors(r.Errors), r.Elapsed.Seconds(), r.Throughput(), r.TokenRate())
	fmt.Fprintf(w, "  latency p50 %s  p90 %s  p99 %s  max %s\n", Ms(s.P50), Ms(s.P90), Ms(s.P99), Ms(s.Max))
	if r.TTFT.Count() > 0 {
		fmt.Fprintf(w, "  TTFT    p50 %s  p90 %s  p99 %s  max %s\n", Ms(r.TTFT.Quantile(0.5)),
			Ms(r.TTFT.Quantile(0.9)), Ms(r.TTFT.Quantile(0.99)), Ms(r.TTFT.Max()))
	}
	if r.SendLag.Count() > 0 {
		fmt.Fprintf(w, "  send lag p99 %s (scheduler; latency counts from the intended send time)\n", Ms(r.SendLag.Quantile(0.99)))
	}
	if r.Cached+r.Coalesced > 0 {
		fmt.Fprintf(w, "  cached %d, coalesced %d\n", r.Cached, r.Coalesced)
	}
}
