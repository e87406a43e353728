package web

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/vllm/sim"
)

// TestCompletionFeedback: /code/complete and /v1/completions (with a suffix) return a
// completion id; its receiver reports shown, accepted (partly) and dismissed through
// POST /api/v1/completions/events; repeats are taken once, another key's reports on it
// and malformed ones are listed with their codes, and the events reach the database
// with what the id says.
func TestCompletionFeedback(t *testing.T) {
	ce := newCodeEnv(t, codeOpts{engine: realtime.EngineConfig{BaseModel: sim.DefaultModel}})
	r := ce.do("POST", "/api/v1/code/complete", map[string]any{"prefix": "def add(a, b):\n    ", "language": "python"}, ce.auth()...)
	id, _ := r.json(t)["completion_id"].(string)
	if r.StatusCode != 200 || !strings.HasPrefix(id, "cmpl-") {
		t.Fatalf("complete: %d %s", r.StatusCode, r.body)
	}
	o := ce.do("POST", "/v1/completions", map[string]any{"model": "hapa-completion", "prompt": "def sub(a, b):\n    ", "suffix": "\n", "max_tokens": 8},
		"Authorization", "Bearer "+ce.key)
	oid, _ := o.json(t)["id"].(string)
	if o.StatusCode != 200 || !strings.HasPrefix(oid, "cmpl-") || oid == id {
		t.Fatalf("/v1/completions: %d %s", o.StatusCode, o.body)
	}
	other, _ := ce.newKey(nil, nil, ScopeCodeCompletion)
	send := func(key string, events ...map[string]any) map[string]any {
		t.Helper()
		r := ce.do("POST", "/api/v1/completions/events", map[string]any{"events": events}, "X-API-Key", key)
		if r.StatusCode != 200 {
			t.Fatalf("events: %d %s", r.StatusCode, r.body)
		}
		return r.json(t)
	}
	got := send(ce.key,
		map[string]any{"completion_id": id, "event": "shown"},
		map[string]any{"completion_id": id, "event": "accepted", "accepted_chars": 9, "accepted_lines": 1},
		map[string]any{"completion_id": id, "event": "shown"}, // a repeat
		map[string]any{"completion_id": oid, "event": "dismissed"},
		map[string]any{"completion_id": id, "event": "copied"},
		map[string]any{"completion_id": "cmpl-forged", "event": "shown"},
	)
	errs, _ := json.Marshal(got["errors"])
	if got["received"] != 6.0 || got["accepted"] != 4.0 || !strings.Contains(string(errs), `"error_code":"E4001","index":4`) ||
		!strings.Contains(string(errs), `"completion_id":"cmpl-forged","error_code":"E4011","index":5`) {
		t.Fatalf("answer %v %s", got, errs)
	}
	if got := send(other, map[string]any{"completion_id": id, "event": "dismissed"}); got["accepted"] != 0.0 {
		t.Fatalf("another key reported on the completion: %v", got)
	}

	var rows int
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		evs, err := ce.db.CompletionEvents().Of(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		if rows = len(evs); rows == 2 {
			acc := evs[1]
			if acc.Event != "accepted" || *acc.AcceptedChars != 9 || acc.Language != "python" || acc.Adapter != "autocomplete" || acc.KeyID == nil {
				t.Fatalf("accepted event stored as %+v", acc)
			}
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if rows != 2 {
		t.Fatalf("%d events stored for %s, want shown and accepted", rows, id)
	}

	for _, c := range []struct {
		body   string
		status int
		code   string
	}{
		{`{"events": []}`, 400, "E4002"},
		{`{"events": [` + strings.Repeat(`{"completion_id":"x","event":"shown"},`, 100) + `{}]}`, 413, "E4010"},
		{`{"events": "shown"}`, 400, "E4001"},
		{`not json`, 400, "E4001"},
	} {
		r := ce.do("POST", "/api/v1/completions/events", c.body, ce.auth()...)
		if r.StatusCode != c.status || !strings.Contains(string(r.body), c.code) {
			t.Errorf("%.40s: %d %s, want %d %s", c.body, r.StatusCode, r.body, c.status, c.code)
		}
	}
	if r := ce.do("POST", "/api/v1/completions/events", `{"events":[]}`); r.StatusCode != 401 {
		t.Errorf("without a key: %d", r.StatusCode)
	}
}
