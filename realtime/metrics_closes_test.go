package realtime

import (
	"os"
	"regexp"
	"slices"
	"testing"
)

// TestMetricsCloseCodesOfTheProtocol: every close code of docs/protocol.md's table is
// counted under its own label (1008, the frame flood, was counted as "other").
func TestMetricsCloseCodesOfTheProtocol(t *testing.T) {
	doc, err := os.ReadFile("../docs/protocol.md")
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, m := range regexp.MustCompile(`(?m)^\| ([14]0\d\d)\b[^|]*\|`).FindAllStringSubmatch(string(doc), -1) {
		if !slices.Contains(codes, m[1]) {
			codes = append(codes, m[1])
		}
	}
	if len(codes) < 8 || !slices.Contains(codes, "1008") {
		t.Fatalf("close codes found in docs/protocol.md: %v", codes)
	}
	m, reg := newTestMetrics(t)
	for _, c := range codes {
		n := 0
		for _, d := range c {
			n = 10*n + int(d-'0')
		}
		m.SessionOpened()
		m.SessionClosed(n)
	}
	got := gathered(t, reg, "hapa_ws_closes_total")
	for _, c := range codes {
		if got[c] != 1 {
			t.Errorf("close %s: counted %v under its own label (all: %v)", c, got[c], got)
		}
	}
	if got["other"] != 0 {
		t.Errorf("%v closes of the protocol counted as other", got["other"])
	}
	m.SessionOpened()
	m.SessionClosed(4999) // a code outside the protocol stays bounded
	if gathered(t, reg, "hapa_ws_closes_total")["other"] != 1 {
		t.Error("an unknown close code is not counted as other")
	}
}
