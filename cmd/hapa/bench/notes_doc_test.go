package bench

import (
	"os"
	"strings"
	"testing"
)

// TestPerformanceDocEndsWithNotes checks that docs/performance.md ends with the notes
// the suite writes (notesText), so that sections kept there by hand — the editors'
// socket-against-HTTP figures of docs/editors.md — are also what `make bench` writes.
func TestPerformanceDocEndsWithNotes(t *testing.T) {
	b, err := os.ReadFile("../../../docs/performance.md")
	if err != nil {
		t.Fatal(err)
	}
	want := strings.TrimSpace(notesText) + "\n"
	if !strings.HasSuffix(string(b), want) {
		t.Fatal("docs/performance.md does not end with notesText (cmd/hapa/bench/texts.go): edit both, or run make bench")
	}
	if !strings.Contains(want, "## Editors: one socket against a request per completion") {
		t.Fatal("notesText lost the editors section")
	}
}
