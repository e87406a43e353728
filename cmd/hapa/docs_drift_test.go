package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/spf13/pflag"

	"github.com/hapa-project/hapa/realtime"
)

// The documentation tables below are checked against the binary, so that they cannot
// drift: README "Configuration" against settings(), docs/vllm.md's simulator flags
// against `hapa sim`, docs/operations.md "Metrics" against the registered collectors,
// and README's help blocks against the help itself.

// readDoc reads a file of the repository (relative to its root).
func readDoc(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("..", "..", name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// docSection is the text of the "## title" section of doc, up to the next "## ".
func docSection(t *testing.T, doc, title string) string {
	t.Helper()
	i := strings.Index(doc, "\n## "+title+"\n")
	if i < 0 {
		t.Fatalf("no section %q", title)
	}
	rest := doc[i+len(title)+5:]
	if j := strings.Index(rest, "\n## "); j >= 0 {
		rest = rest[:j]
	}
	return rest
}

// tableRows returns the cells of every markdown table row of text whose first cell is
// code (`…`), with the backquotes of that first cell removed.
func tableRows(text string) [][]string {
	var out [][]string
	for _, line := range strings.Split(text, "\n") {
		if !strings.HasPrefix(line, "| `") {
			continue
		}
		cells := strings.Split(strings.Trim(line, "|"), " | ")
		for i := range cells {
			cells[i] = strings.TrimSpace(cells[i])
		}
		cells[0] = strings.Trim(cells[0], "`")
		out = append(out, cells)
	}
	return out
}

// docDefault turns a table's default cell into the flag's default text: `x` → x, — → "".
func docDefault(cell string) string {
	if strings.HasPrefix(cell, "—") {
		return ""
	}
	cell = strings.TrimPrefix(cell, "`")
	cell, _, _ = strings.Cut(cell, "`")
	return cell
}

func TestReadmeConfigurationTable(t *testing.T) {
	rows := tableRows(docSection(t, readDoc(t, "README.md"), "Configuration"))
	documented := map[string]string{}
	for _, r := range rows {
		if len(r) < 3 {
			t.Errorf("row %v: want | `VARIABLE` | default | meaning |", r)
			continue
		}
		if _, dup := documented[r[0]]; dup {
			t.Errorf("%s is documented twice", r[0])
		}
		documented[r[0]] = docDefault(r[1])
	}
	for _, s := range settings() {
		def, ok := documented[s.env]
		switch {
		case !ok:
			t.Errorf("README Configuration lacks %s (default %q): add a row", s.env, s.def)
		case def != s.def:
			t.Errorf("README Configuration: %s defaults to %q, the binary to %q", s.env, def, s.def)
		}
		delete(documented, s.env)
	}
	for name := range documented {
		t.Errorf("README Configuration documents %s, which is no setting of cmd/hapa/config.go", name)
	}
}

func TestVLLMDocSimFlags(t *testing.T) {
	rows := tableRows(docSection(t, readDoc(t, "docs/vllm.md"), "Simulator"))
	documented := map[string]string{}
	for _, r := range rows {
		if strings.HasPrefix(r[0], "--") && len(r) >= 3 {
			documented[strings.TrimPrefix(r[0], "--")] = docDefault(r[1])
		}
	}
	flags := 0
	simCmd(func(string) string { return "" }).Flags().VisitAll(func(f *pflag.Flag) {
		flags++
		def, ok := documented[f.Name]
		switch {
		case !ok:
			t.Errorf("docs/vllm.md lacks hapa sim --%s (default %q)", f.Name, f.DefValue)
		case def != f.DefValue:
			t.Errorf("docs/vllm.md: --%s defaults to %q, hapa sim to %q", f.Name, def, f.DefValue)
		}
		delete(documented, f.Name)
	})
	if flags < 10 {
		t.Fatalf("hapa sim has only %d flags", flags)
	}
	for name := range documented {
		t.Errorf("docs/vllm.md documents --%s, which hapa sim does not have", name)
	}
}

// recordingRegisterer remembers every collector registered through it.
type recordingRegisterer struct {
	prometheus.Registerer
	collectors []prometheus.Collector
}

func (r *recordingRegisterer) Register(c prometheus.Collector) error {
	r.collectors = append(r.collectors, c)
	return r.Registerer.Register(c)
}

func (r *recordingRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// metricNames are the HAPA metric names of the collectors, from their descriptors (a
// labelled metric appears in /metrics only once it has a sample; its descriptor always
// exists).
func metricNames(cs []prometheus.Collector) map[string]bool {
	out := map[string]bool{}
	re := regexp.MustCompile(`fqName: "(hapa_\w+)"`)
	for _, c := range cs {
		ch := make(chan *prometheus.Desc, 64)
		go func() { c.Describe(ch); close(ch) }()
		for d := range ch {
			if m := re.FindStringSubmatch(d.String()); m != nil {
				out[m[1]] = true
			}
		}
	}
	return out
}

func TestOperationsDocMetrics(t *testing.T) {
	documented := map[string]bool{}
	for _, r := range tableRows(docSection(t, readDoc(t, "docs/operations.md"), "Metrics")) {
		for _, name := range regexp.MustCompile(`hapa_\w+`).FindAllString(r[0], -1) {
			documented[name] = true
		}
	}
	// The collectors buildEngine registers.
	rec := &recordingRegisterer{Registerer: prometheus.NewRegistry()}
	if _, err := realtime.NewMetrics(realtime.MetricsConfig{NoRuntime: true}, rec); err != nil {
		t.Fatal(err)
	}
	rec.MustRegister(realtime.NewScrapeCollector(nil, nil))
	if _, err := realtime.NewUpstreamMetrics(rec); err != nil {
		t.Fatal(err)
	}
	registered := metricNames(rec.collectors)

	// And whatever a running gateway exposes after a few requests.
	base, _, stop := startServe(t, map[string]string{"DATABASE_URL": "sqlite:///" + filepath.Join(t.TempDir(), "m.db")})
	defer stop()
	for _, p := range []string{"/health", "/nope", "/metrics"} {
		resp, err := http.Get(base + p)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if p == "/metrics" {
			for _, m := range regexp.MustCompile(`(?m)^# TYPE (hapa_\w+) `).FindAllSubmatch(body, -1) {
				registered[string(m[1])] = true
			}
		}
	}
	if len(registered) < 15 {
		t.Fatalf("found only %d metrics", len(registered))
	}
	var missing, stale []string
	for name := range registered {
		if !documented[name] {
			missing = append(missing, name)
		}
	}
	for name := range documented {
		if !registered[name] {
			stale = append(stale, name)
		}
	}
	slices.Sort(missing)
	slices.Sort(stale)
	if len(missing) > 0 {
		t.Errorf("docs/operations.md \"Metrics\" lacks %s", strings.Join(missing, ", "))
	}
	if len(stale) > 0 {
		t.Errorf("docs/operations.md \"Metrics\" documents %s, which the gateway does not register", strings.Join(stale, ", "))
	}
}

// TestReadmeShowsTheHelp: the help blocks of README are what the binary prints.
func TestReadmeShowsTheHelp(t *testing.T) {
	readme := readDoc(t, "README.md")
	blocks := regexp.MustCompile("(?s)```text\n\\$ (hapa[^\n]*)\n(.*?)```").FindAllStringSubmatch(readme, -1)
	if len(blocks) < 2 {
		t.Fatalf("README shows %d help blocks, want hapa --help and hapa keys create --help", len(blocks))
	}
	for _, b := range blocks {
		var out bytes.Buffer
		if err := run(context.Background(), strings.Fields(b[1])[1:], env(nil), &out); err != nil {
			t.Fatalf("%s: %v", b[1], err)
		}
		if out.String() != b[2] {
			t.Errorf("README's %q block differs from the binary's output:\n%s", b[1], out.String())
		}
	}
}
