package bench

import (
	"context"
	"fmt"
	"strings"
	"testing"
)

// TestCorpus: every case cuts its file into prefix + expected line + suffix, the four
// languages are there, and each case gets its repository's other files as snippets.
func TestCorpus(t *testing.T) {
	c, err := LoadCorpus()
	if err != nil {
		t.Fatal(err)
	}
	if len(c.Cases) < 30 {
		t.Errorf("%d cases, want a few dozen", len(c.Cases))
	}
	langs := map[string]int{}
	for _, k := range c.Cases {
		cc, err := c.Request(k)
		if err != nil {
			t.Fatal(err)
		}
		langs[cc.Language]++
		if got := cc.Prefix + cc.Expected + cc.Suffix; got != c.Files[k.File] {
			t.Errorf("%s:%d does not reassemble into its file", k.File, k.Line)
		}
		if len(cc.Snippets) < 2 {
			t.Errorf("%s:%d has %d snippets", k.File, k.Line, len(cc.Snippets))
		}
		for _, s := range cc.Snippets {
			if s.Path == cc.Path || strings.Contains(s.Path, "cases.json") {
				t.Errorf("%s:%d: snippet %s", k.File, k.Line, s.Path)
			}
		}
	}
	for _, l := range []string{"python", "go", "typescript", "rust"} {
		if langs[l] < 5 {
			t.Errorf("%d %s cases", langs[l], l)
		}
	}
	for i, s := range c.Stress(20, 200) {
		if n := strings.Count(s.Text, "\n"); n != 200 {
			t.Errorf("stress snippet %d has %d lines", i, n)
		}
	}
}

// TestCompletionBench runs the scenario briefly: every table is filled, the goal is
// measured, and the ranked packing recalls at least what packing in order does.
func TestCompletionBench(t *testing.T) {
	sec, goals, err := CompletionBench(context.Background(), CompletionOpts{Rounds: 2, StressRounds: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(goals) != 1 || goals[0].Status == NotMeasured || len(sec.Tables) != 3 {
		t.Fatalf("goals %+v, %d tables", goals, len(sec.Tables))
	}
	if rows := sec.Tables[0].Rows; len(rows) != 5 || rows[4][0] != "all" || rows[4][1] != "33" {
		t.Errorf("prompt table %v", rows)
	}
	for _, row := range sec.Tables[2].Rows {
		if pctOf(t, row[2]) < pctOf(t, row[3]) {
			t.Errorf("budget %s: ranked recall %s below in-order %s", row[0], row[2], row[3])
		}
	}
}

func pctOf(t *testing.T, cell string) int {
	t.Helper()
	var n int
	if _, err := fmt.Sscan(cell, &n); err != nil {
		t.Fatalf("cell %q: %v", cell, err)
	}
	return n
}
