package web

import "testing"

func TestLivezIgnoresTheDatabase(t *testing.T) {
	env := newEnv(t)
	if r := env.do("GET", "/livez", nil); r.StatusCode != 200 {
		t.Fatalf("livez = %d", r.StatusCode)
	}
	env.db.Close()
	r := env.do("GET", "/livez", nil)
	if r.StatusCode != 200 {
		t.Fatalf("livez with closed db = %d, want 200 (liveness must not follow the database)", r.StatusCode)
	}
	if m := r.json(t); m["status"] != "alive" {
		t.Errorf("livez body status = %v", m["status"])
	}
}
