package deploy

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

type composeFile struct {
	Name     string
	Services map[string]struct {
		Image       string
		Build       any
		Profiles    []string
		Environment map[string]string
		Command     any
		Volumes     []string
		Healthcheck *struct {
			Test        []string
			Interval    string
			StartPeriod string `yaml:"start_period"`
		}
		DependsOn map[string]struct{ Condition string } `yaml:"depends_on"`
	}
	Volumes map[string]any
}

// TestComposeFile checks deploy/docker-compose.yml without Docker: every service has a
// health check and a pinned image, hapa waits for healthy dependencies, no secret is
// written into the file, every ${VAR} is in deploy/.env.example, and the monitoring
// profile mounts files that exist.
func TestComposeFile(t *testing.T) {
	var c composeFile
	readYAML(t, "deploy/docker-compose.yml", &c)
	if len(c.Services) < 4 {
		t.Fatalf("only %d services", len(c.Services))
	}
	pinned := regexp.MustCompile(`^[\w./-]+:(v?\d+(\.\d+)+(-[\w.]+)?|\$\{HAPA_VERSION:-dev\})(@sha256:[0-9a-f]{64})?$`)
	for name, s := range c.Services {
		if s.Healthcheck == nil || len(s.Healthcheck.Test) < 2 || s.Healthcheck.Interval == "" {
			t.Errorf("service %s has no health check", name)
		}
		if !pinned.MatchString(s.Image) {
			t.Errorf("service %s: image %q is not pinned to a version", name, s.Image)
		}
		for dep, d := range s.DependsOn {
			if d.Condition != "service_healthy" {
				t.Errorf("%s depends on %s with %q: want service_healthy", name, dep, d.Condition)
			}
		}
		for _, v := range s.Volumes {
			src, _, _ := strings.Cut(v, ":")
			if strings.HasPrefix(src, "./") {
				if _, err := os.Stat(filepath.Join(root(t), "deploy", src)); err != nil {
					t.Errorf("service %s mounts %s, which is not in deploy/: %v", name, src, err)
				}
			}
		}
	}
	hapa := c.Services["hapa"]
	if hapa.Build == nil || strings.Join(hapa.Healthcheck.Test, " ") != "CMD /usr/local/bin/hapa health" {
		t.Errorf("hapa: want the image built from the repository with the image's HEALTHCHECK, got %v", hapa.Healthcheck.Test)
	}
	for _, dep := range []string{"postgres", "redis", "vllm"} {
		if _, ok := hapa.DependsOn[dep]; !ok {
			t.Errorf("hapa does not wait for %s", dep)
		}
	}
	if img := c.Services["vllm"].Image; !strings.HasPrefix(img, "vllm/vllm-openai:v0.") {
		t.Errorf("vllm image %s: want a released vllm/vllm-openai tag", img)
	}
	for _, m := range []string{"prometheus", "grafana"} {
		if p := c.Services[m].Profiles; len(p) != 1 || p[0] != "monitoring" {
			t.Errorf("%s: profiles %v, want [monitoring]", m, p)
		}
	}
	if !strings.Contains(strings.Join(c.Services["prometheus"].Volumes, " "), "./prometheus/alerts.yml:") ||
		!strings.Contains(strings.Join(c.Services["grafana"].Volumes, " "), "./grafana-dashboard.json:") {
		t.Error("the monitoring profile must load deploy/prometheus/alerts.yml and the Grafana dashboard")
	}

	// No secret in the file: values of secret-looking variables come from ${…}.
	secretName := regexp.MustCompile(`PASSWORD|SECRET|_KEY$|TOKEN`)
	secrets := map[string]bool{}
	for _, s := range serverSettings(t) {
		secrets[s.name] = s.secret
	}
	for name, s := range c.Services {
		for k, v := range s.Environment {
			if (secretName.MatchString(k) || secrets[k] && strings.Contains(v, "@")) && v != "" && !strings.Contains(v, "${") {
				t.Errorf("%s: %s is written into the compose file; take it from deploy/.env", name, k)
			}
		}
	}

	// Every ${VAR} used is listed in .env.example.
	example := read(t, "deploy/.env.example")
	for _, m := range regexp.MustCompile(`\$\{([A-Z0-9_]+)`).FindAllStringSubmatch(read(t, "deploy/docker-compose.yml"), -1) {
		if !regexp.MustCompile(`(?m)^` + m[1] + `=`).MatchString(example) {
			t.Errorf("${%s} is not in deploy/.env.example", m[1])
		}
	}
	for _, line := range strings.Split(example, "\n") {
		if k, v, ok := strings.Cut(line, "="); ok && !strings.HasPrefix(k, "#") && secretName.MatchString(k) && v != "" {
			t.Errorf("deploy/.env.example gives %s a value: leave secrets empty", k)
		}
	}
}
