package bench

import (
	"strings"
	"testing"
	"time"
)

func TestReportRender(t *testing.T) {
	var r Result
	r.Requests, r.OK, r.Errors = 3, 2, map[string]int{"http 429 E4004": 1}
	r.Elapsed = time.Second
	r.Latency.Add(time.Millisecond)
	r.Latency.Add(2 * time.Millisecond)
	r.Tokens = 32
	rep := &Report{
		Title:    "HAPA performance",
		Intro:    "intro text",
		Machine:  [][2]string{{"CPUs (nproc)", "2"}},
		Commands: []string{"make bench"},
		Goals: []Goal{
			{"added p50", "≤ 0.2 ms", "0.150 ms", Met},
			{"added p99", "≤ 1 ms", "1.500 ms", Missed},
			{"redis", "≤ 1.5 ms", "Redis not reachable", NotMeasured},
		},
		Sections: []Section{{Title: "(a) overhead", Text: "a | b", Tables: []Table{{Header: ResultHeader, Rows: [][]string{ResultRow("HAPA", &r)}}}}},
		Notes:    "## Notes\n\nend",
	}
	var b strings.Builder
	if err := rep.Render(&b); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	for _, want := range []string{
		"# HAPA performance\n\nintro text\n\n## Machine\n",
		"| CPUs (nproc) | 2 |\n",
		"```sh\nmake bench\n```\n",
		"| goal | target | measured | status |\n|---|---|---|---|\n",
		"| added p50 | ≤ 0.2 ms | 0.150 ms | met |\n",
		"| added p99 | ≤ 1 ms | 1.500 ms | **missed** |\n",
		"| redis | ≤ 1.5 ms | Redis not reachable | not measured |\n",
		"## (a) overhead\n\na | b\n\n",
		"| HAPA | 3 | 2 | http 429 E4004 ×1 | 2 | 1.000 ms | 2.000 ms | 2.000 ms | 2.000 ms | – | – | 32 |\n",
		"## Notes\n\nend\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("report lacks %q:\n%s", want, out)
		}
	}
}

func TestTableEscapesPipes(t *testing.T) {
	var b strings.Builder
	writeTable(&b, Table{Header: []string{"a"}, Rows: [][]string{{"x|y"}}})
	if want := "| a |\n|---|\n| x\\|y |\n\n"; b.String() != want {
		t.Fatalf("got %q, want %q", b.String(), want)
	}
}

func TestFormatting(t *testing.T) {
	tests := []struct{ got, want string }{
		{Ms(1500 * time.Microsecond), "1.500 ms"},
		{MiB(3 << 20), "3.0 MiB"},
		{Errors(nil), "0"},
		{Errors(map[string]int{"b": 2, "a": 1}), "a ×1, b ×2"},
		{Check(true).String(), "met"},
	}
	for _, tt := range tests {
		if tt.got != tt.want {
			t.Errorf("got %q, want %q", tt.got, tt.want)
		}
	}
}
