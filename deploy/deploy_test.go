// Package deploy holds no code: its tests check the deployment files beside them (the
// Dockerfile, the compose stack, the Helm chart's values and plain render, the alert
// rules) against the server they deploy. docs/kubernetes.md describes the files.
package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

// root is the repository root (this package is deploy/).
func root(t *testing.T) string {
	t.Helper()
	abs, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	return abs
}

func read(t *testing.T, rel string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(root(t), rel))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func readYAML(t *testing.T, rel string, v any) {
	t.Helper()
	if err := yaml.Unmarshal([]byte(read(t, rel)), v); err != nil {
		t.Fatalf("%s: %v", rel, err)
	}
}

// setting is one configuration variable of cmd/hapa/config.go.
type setting struct {
	name, def string
	secret    bool
}

// serverSettings reads the settings table of cmd/hapa/config.go: the list the chart's
// values and the compose file are checked against.
func serverSettings(t *testing.T) []setting {
	t.Helper()
	re := regexp.MustCompile(`\{"([A-Z0-9_]+)", "([^"]*)", (true|false), "`)
	var out []setting
	for _, m := range re.FindAllStringSubmatch(read(t, "cmd/hapa/config.go"), -1) {
		out = append(out, setting{m[1], m[2], m[3] == "true"})
	}
	if len(out) < 40 {
		t.Fatalf("found only %d settings in cmd/hapa/config.go: is the pattern still right?", len(out))
	}
	return out
}

// exportedMetrics lists the metric names the gateway registers (realtime/metrics.go and
// realtime/metrics_sources.go), histograms with their _bucket, _sum and _count series.
func exportedMetrics(t *testing.T) map[string]bool {
	t.Helper()
	out := map[string]bool{}
	src := read(t, "realtime/metrics.go")
	for _, m := range regexp.MustCompile(`prometheus\.New(Counter|CounterVec|Gauge|GaugeVec|Histogram|HistogramVec)\(prometheus\.\w+Opts\{Name: "(hapa_\w+)"`).FindAllStringSubmatch(src, -1) {
		out[m[2]] = true
		if strings.HasPrefix(m[1], "Histogram") {
			out[m[2]+"_bucket"], out[m[2]+"_sum"], out[m[2]+"_count"] = true, true, true
		}
	}
	for _, m := range regexp.MustCompile(`prometheus\.NewDesc\("(hapa_\w+)"`).FindAllStringSubmatch(read(t, "realtime/metrics_sources.go"), -1) {
		out[m[1]] = true
	}
	if len(out) < 15 {
		t.Fatalf("found only %d metrics: is the pattern still right?", len(out))
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// TestAlertRulesUseExportedMetrics: every hapa_* series an alert reads exists, the file
// is valid Prometheus rule YAML in shape, and the chart ships the same file.
func TestAlertRulesUseExportedMetrics(t *testing.T) {
	metrics := exportedMetrics(t)
	var rules struct {
		Groups []struct {
			Name  string
			Rules []struct {
				Alert, Expr, For string
				Labels           map[string]string
				Annotations      map[string]string
			}
		}
	}
	readYAML(t, "deploy/prometheus/alerts.yml", &rules)
	n := 0
	for _, g := range rules.Groups {
		for _, r := range g.Rules {
			n++
			if r.Alert == "" || r.Expr == "" || r.Labels["severity"] == "" || r.Annotations["summary"] == "" {
				t.Errorf("rule %+v: needs alert, expr, a severity label and a summary", r)
			}
			for _, name := range regexp.MustCompile(`hapa_\w+`).FindAllString(r.Expr, -1) {
				if !metrics[name] {
					t.Errorf("alert %s reads %s, which the gateway does not export (have %v)", r.Alert, name, sortedKeys(metrics))
				}
			}
		}
	}
	if n < 5 {
		t.Fatalf("only %d alert rules", n)
	}
	if read(t, "deploy/prometheus/alerts.yml") != read(t, "deploy/helm/hapa/files/alerts.yml") {
		t.Error("deploy/helm/hapa/files/alerts.yml differs from deploy/prometheus/alerts.yml: run make manifests")
	}
	if ops := read(t, "docs/operations.md"); strings.Contains(ops, "alert: Hapa") || !strings.Contains(ops, "deploy/prometheus/alerts.yml") {
		t.Error("docs/operations.md should link deploy/prometheus/alerts.yml, not embed its own copy of the rules")
	}
}

// TestMain removes the binary the image tests built.
func TestMain(m *testing.M) {
	code := m.Run()
	if builtBin != "" {
		os.RemoveAll(filepath.Dir(builtBin))
	}
	os.Exit(code)
}
