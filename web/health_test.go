package web

import (
	"context"
	"testing"
	"time"
)

func TestHealth(t *testing.T) {
	env := newEnv(t)
	for _, path := range []string{"/health", "/api/v1/health"} {
		t.Run(path, func(t *testing.T) {
			r := env.do("GET", path, nil)
			if r.StatusCode != 200 {
				t.Fatalf("status %d", r.StatusCode)
			}
			m := r.json(t)
			if m["status"] != "degraded" || m["version"] != "9.9.9-test" || m["service"] != "HAPA Backend API" {
				t.Errorf("body %s", r.body)
			}
			if _, ok := m["uptime"].(float64); !ok {
				t.Errorf("uptime = %v", m["uptime"])
			}
			if v, ok := m["last_cleanup"]; !ok || v != nil {
				t.Errorf("last_cleanup = %v (present %v), want null", v, ok)
			}
			svc := m["services"].(map[string]any)
			if svc["database"] != "connected" || svc["redis"] != "disabled" || svc["ai_model"] != "unavailable" {
				t.Errorf("services = %v", svc)
			}
			if _, err := time.Parse(time.RFC3339, m["timestamp"].(string)); err != nil {
				t.Error(err)
			}
		})
	}
}

func TestHealthReport(t *testing.T) {
	cleanup := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	cases := []struct {
		rep  HealthReport
		want string
	}{
		{HealthReport{Database: StateConnected, Redis: StateConnected, AIModel: StateAvailable, LastCleanup: cleanup}, "healthy"},
		{HealthReport{Database: StateConnected, Redis: StateDisabled, AIModel: StateSimulator}, "healthy"},
		{HealthReport{Database: StateConnected, Redis: StateError, AIModel: StateAvailable}, "degraded"},
		{HealthReport{Database: StateConnected, Redis: StateDisabled, AIModel: StateUnavailable}, "degraded"},
		{HealthReport{Database: StateError, Redis: StateDisabled, AIModel: StateAvailable}, "unhealthy"},
	}
	for _, tc := range cases {
		env := newEnv(t, func(_ *Config, d *Deps) {
			d.Health = func(context.Context) HealthReport { return tc.rep }
		})
		m := env.do("GET", "/health", nil).json(t)
		if m["status"] != tc.want {
			t.Errorf("%+v: status %v, want %s", tc.rep, m["status"], tc.want)
		}
		if !tc.rep.LastCleanup.IsZero() && m["last_cleanup"] != "2026-12-01T03:00:00Z" {
			t.Errorf("last_cleanup = %v", m["last_cleanup"])
		}
	}
}

// TestReadyz: ready while serving, "degraded" but still ready without a database (it
// serves the callers it knows), 503 once draining for shutdown.
func TestReadyz(t *testing.T) {
	env := newEnv(t)
	if r := env.do("GET", "/readyz", nil); r.StatusCode != 200 || r.json(t)["status"] != "ready" {
		t.Fatalf("readyz = %d %s", r.StatusCode, r.body)
	}
	env.db.Close()
	if r := env.do("GET", "/readyz", nil); r.StatusCode != 200 || r.json(t)["status"] != "degraded" {
		t.Fatalf("readyz with closed db = %d %s", r.StatusCode, r.body)
	}
	env.srv.Drain()
	if r := env.do("GET", "/readyz", nil); r.StatusCode != 503 || r.json(t)["status"] != "draining" {
		t.Fatalf("readyz while draining = %d %s", r.StatusCode, r.body)
	}
	if r := env.do("GET", "/health", nil); r.StatusCode != 200 {
		t.Fatalf("a draining server still serves: /health %d", r.StatusCode)
	}
	if m := env.do("GET", "/health", nil).json(t); m["status"] != "unhealthy" {
		t.Errorf("health with closed db: %v", m["status"])
	}
}

func TestInfo(t *testing.T) {
	env := newEnv(t)
	m := env.do("GET", "/", nil).json(t)
	if m["service"] != "HAPA (Hancom AI Python Assistant)" || m["status"] != "running" || m["version"] != "9.9.9-test" {
		t.Errorf("info = %v", m)
	}
	if m["endpoints"].(map[string]any)["streaming"] != "/api/v1/code/generate/stream" {
		t.Errorf("endpoints = %v", m["endpoints"])
	}
}
