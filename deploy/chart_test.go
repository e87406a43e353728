package deploy

import (
	"errors"
	"io"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"
)

// chartDerived are the settings the chart sets from its own values (port, shutdown,
// migrations, metrics) rather than from `config`.
var chartDerived = []string{"HOST", "PORT", "SHUTDOWN_TIMEOUT", "SHUTDOWN_DRAIN_DELAY", "AUTO_MIGRATE", "METRICS_ADDR"}

type chartValues struct {
	Config      map[string]string
	Secrets     map[string]string
	Autoscaling struct {
		Streams struct {
			MetricName string `yaml:"metricName"`
		}
	}
	Raw map[string]any `yaml:"-"`
}

func loadValues(t *testing.T) chartValues {
	t.Helper()
	var v chartValues
	readYAML(t, "deploy/helm/hapa/values.yaml", &v)
	readYAML(t, "deploy/helm/hapa/values.yaml", &v.Raw)
	return v
}

// TestChartValuesCoverEverySetting: each variable of cmd/hapa/config.go has exactly one
// place in the chart: `secrets` for the secret ones, `config` or a derived entry for the
// others; nothing else is there (a misspelt name would be ignored by the server).
func TestChartValuesCoverEverySetting(t *testing.T) {
	v := loadValues(t)
	known := map[string]setting{}
	for _, s := range serverSettings(t) {
		known[s.name] = s
		_, inConfig := v.Config[s.name]
		_, inSecrets := v.Secrets[s.name]
		derived := false
		for _, d := range chartDerived {
			derived = derived || d == s.name
		}
		switch {
		case s.secret && !inSecrets:
			t.Errorf("%s is secret: it belongs under secrets in values.yaml", s.name)
		case s.secret && inConfig:
			t.Errorf("%s is secret: it must not be in config (a ConfigMap)", s.name)
		case !s.secret && !inConfig && !derived:
			t.Errorf("%s has no place in values.yaml (config)", s.name)
		case !s.secret && inConfig && derived:
			t.Errorf("%s is set by the chart: leave it out of config", s.name)
		}
	}
	for k := range v.Config {
		if _, ok := known[k]; !ok {
			t.Errorf("config.%s is no setting of the server", k)
		}
	}
	for k := range v.Secrets {
		if _, ok := known[k]; !ok && k != "existingSecret" {
			t.Errorf("secrets.%s is no setting of the server", k)
		}
	}
	if m := v.Autoscaling.Streams.MetricName; !exportedMetrics(t)[m] {
		t.Errorf("autoscaling.streams.metricName %q is not a metric of the gateway", m)
	}
	readme := read(t, "deploy/helm/hapa/README.md")
	for k := range v.Raw {
		if !strings.Contains(readme, "`"+k) {
			t.Errorf("values key %s is not documented in deploy/helm/hapa/README.md", k)
		}
	}
}

// manifests reads deploy/kubernetes/hapa.yaml, the chart's plain render, by kind.
func manifests(t *testing.T) map[string]map[string]any {
	t.Helper()
	out := map[string]map[string]any{}
	dec := yaml.NewDecoder(strings.NewReader(read(t, "deploy/kubernetes/hapa.yaml")))
	for {
		var doc map[string]any
		err := dec.Decode(&doc)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if doc == nil {
			continue
		}
		kind, _ := doc["kind"].(string)
		if _, dup := out[kind]; dup {
			t.Fatalf("two %s in deploy/kubernetes/hapa.yaml", kind)
		}
		out[kind] = doc
	}
	return out
}

// at walks a decoded YAML document: strings are map keys, ints list indexes.
func at(t *testing.T, v any, path ...any) any {
	t.Helper()
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, ok := v.(map[string]any)
			if !ok {
				t.Fatalf("%v: no map at %q", path, k)
			}
			v = m[k]
		case int:
			l, ok := v.([]any)
			if !ok || k >= len(l) {
				t.Fatalf("%v: no item %d", path, k)
			}
			v = l[k]
		}
	}
	return v
}

// TestPlainManifests checks the chart's rendered Deployment against the server: probes on
// routes that exist, the image's user and data directory, a grace period that covers the
// pre-stop delay and SHUTDOWN_TIMEOUT, ports that match the settings.
func TestPlainManifests(t *testing.T) {
	if !strings.HasPrefix(read(t, "deploy/kubernetes/hapa.yaml"), "# Rendered from deploy/helm/hapa by `make manifests`") {
		t.Error("deploy/kubernetes/hapa.yaml lacks its header")
	}
	docs := manifests(t)
	for _, k := range []string{"Deployment", "Service", "ConfigMap", "ServiceAccount", "PodDisruptionBudget", "Ingress"} {
		if docs[k] == nil {
			t.Fatalf("no %s in deploy/kubernetes/hapa.yaml", k)
		}
	}
	if docs["Secret"] != nil || docs["Job"] != nil || docs["Pod"] != nil {
		t.Error("the plain manifests use the operator's Secret and migrate at start: no Secret, Job or test Pod")
	}
	cm := at(t, docs["ConfigMap"], "data").(map[string]any)
	if cm["AUTO_MIGRATE"] != "true" {
		t.Errorf("AUTO_MIGRATE = %v in the plain manifests", cm["AUTO_MIGRATE"])
	}
	pod := at(t, docs["Deployment"], "spec", "template", "spec")
	c := at(t, pod, "containers", 0)

	routes := read(t, "web/routes.go")
	for probe, want := range map[string]string{"startupProbe": "/livez", "livenessProbe": "/livez", "readinessProbe": "/readyz"} {
		path := at(t, c, probe, "httpGet", "path")
		if path != want || at(t, c, probe, "httpGet", "port") != "http" {
			t.Errorf("%s: %v on port %v, want %s on http", probe, path, at(t, c, probe, "httpGet", "port"), want)
		}
		if !strings.Contains(routes, `"GET `+want+`"`) {
			t.Errorf("%s probes %s, which web/routes.go does not serve", probe, want)
		}
	}

	stages := parseDockerfile(t)
	dataDir := stages[len(stages)-1].last("WORKDIR")
	mounts := map[string]bool{}
	for _, m := range at(t, c, "volumeMounts").([]any) {
		mounts[at(t, m, "mountPath").(string)] = true
	}
	if !mounts[dataDir] || !mounts["/tmp"] {
		t.Errorf("mounts %v: want the image's data directory %s and /tmp (the root file system is read-only)", mounts, dataDir)
	}
	if at(t, pod, "securityContext", "runAsNonRoot") != true || at(t, pod, "securityContext", "runAsUser") != 65532 {
		t.Error("the pod must run as nonroot (65532, the image's user)")
	}
	sc := at(t, c, "securityContext")
	if at(t, sc, "readOnlyRootFilesystem") != true || at(t, sc, "allowPrivilegeEscalation") != false ||
		at(t, sc, "capabilities", "drop", 0) != "ALL" {
		t.Errorf("container securityContext %v", sc)
	}

	timeout, err := time.ParseDuration(cm["SHUTDOWN_TIMEOUT"].(string))
	if err != nil {
		t.Fatal(err)
	}
	// The pre-stop delay: the server drains for SHUTDOWN_DRAIN_DELAY (preStopMode
	// server, the default), or the kubelet sleeps before SIGTERM (sleep).
	preStop := 0
	if d, ok := cm["SHUTDOWN_DRAIN_DELAY"].(string); ok {
		v, err := time.ParseDuration(d)
		if err != nil {
			t.Fatal(err)
		}
		preStop = int(v / time.Second)
	} else if c, ok := c.(map[string]any); ok && c["lifecycle"] != nil {
		preStop, _ = at(t, c, "lifecycle", "preStop", "sleep", "seconds").(int)
	}
	if preStop == 0 {
		t.Error("no pre-stop delay: a stopping pod would refuse connections the load balancers still send")
	}
	grace := at(t, pod, "terminationGracePeriodSeconds").(int)
	if time.Duration(grace)*time.Second < timeout+time.Duration(preStop)*time.Second {
		t.Errorf("terminationGracePeriodSeconds %d < SHUTDOWN_TIMEOUT %s + preStop %ds", grace, timeout, preStop)
	}

	ports := map[string]int{}
	for _, p := range at(t, c, "ports").([]any) {
		ports[at(t, p, "name").(string)] = at(t, p, "containerPort").(int)
	}
	if strconv.Itoa(ports["http"]) != cm["PORT"] {
		t.Errorf("containerPort http %d, PORT %v", ports["http"], cm["PORT"])
	}
	if addr, _ := cm["METRICS_ADDR"].(string); addr != "" && !strings.HasSuffix(addr, ":"+strconv.Itoa(ports["metrics"])) {
		t.Errorf("METRICS_ADDR %s, metrics port %d", addr, ports["metrics"])
	}
	envFrom := at(t, c, "envFrom").([]any)
	if len(envFrom) != 2 || at(t, envFrom[1], "secretRef", "name") != "hapa-secrets" {
		t.Errorf("envFrom %v: want the ConfigMap and the Secret hapa-secrets", envFrom)
	}

	ann := at(t, docs["Ingress"], "metadata", "annotations").(map[string]any)
	for _, k := range []string{"proxy-read-timeout", "proxy-send-timeout"} {
		n, _ := strconv.Atoi(ann["nginx.ingress.kubernetes.io/"+k].(string))
		if n < 3600 {
			t.Errorf("ingress %s = %v: WebSockets need an hour or more", k, ann["nginx.ingress.kubernetes.io/"+k])
		}
	}
	if ann["nginx.ingress.kubernetes.io/proxy-buffering"] != "off" {
		t.Error("ingress buffers responses: SSE streams would arrive in lumps")
	}
}

// TestChartTemplatesNameOnlyKnownSettings: the ConfigMap entries the templates write by
// name are settings of the server (SHUTDOWN_DRAIN_DELAY, read once the server supports
// it, is the one exception).
func TestChartTemplatesNameOnlyKnownSettings(t *testing.T) {
	known := map[string]bool{"SHUTDOWN_DRAIN_DELAY": true}
	for _, s := range serverSettings(t) {
		known[s.name] = true
	}
	helpers := read(t, "deploy/helm/hapa/templates/_helpers.tpl")
	def := helpers[strings.Index(helpers, `define "hapa.configData"`):]
	def = def[:strings.Index(def, "{{- end -}}")]
	for _, m := range regexp.MustCompile(`(?m)^([A-Z][A-Z0-9_]+):`).FindAllStringSubmatch(def, -1) {
		if !known[m[1]] {
			t.Errorf("the chart's ConfigMap sets %s, which the server does not read", m[1])
		}
	}
}
