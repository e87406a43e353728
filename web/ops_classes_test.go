package web

import (
	"bufio"
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
	"github.com/hapa-project/hapa/vllm/sim"
)

// TestOpsErrorClasses runs real traffic through the gateway — a client cancel, client
// errors with and without a request-log row, a server error outside the engine — and
// reads the dashboard and analytics: a cancel is counted as a cancel (never E5004, never
// an error), 4xx codes are in top_error_codes, and ?class= filters them.
func TestOpsErrorClasses(t *testing.T) {
	var tally *realtime.ClientErrorTally
	ce := newCodeEnv(t, codeOpts{
		sim: sim.Config{Seed: 1, MaxModelLen: 400, TTFT: 5 * time.Millisecond, ITL: 20 * time.Millisecond},
		mod: func(_ *Config, d *Deps) {
			tally = realtime.NewClientErrorTally(realtime.ClientErrorConfig{}, d.DB.ClientErrors(), nil)
			d.Ops.ClientErrors = tally
		},
	})
	ctx := context.Background()
	admin, _ := ce.newKey(nil, nil, ScopeAdmin)
	gen := func(body map[string]any, hdr ...string) resp {
		return ce.do("POST", "/api/v1/code/generate", body, hdr...)
	}

	// Client errors of requests without a row: a bad key (twice), an out-of-range value.
	checkError(t, gen(map[string]any{"prompt": "x"}, "X-API-Key", "hapa_not_a_key"), 401, "E4003")
	checkError(t, gen(map[string]any{"prompt": "x"}, "X-API-Key", "hapa_not_a_key"), 401, "E4003")
	checkError(t, gen(map[string]any{"prompt": "x", "temperature": 5}, ce.auth()...), 422, "E4008")
	// A client error of a started stream: the upstream refuses the context length; the
	// request log holds it, so it is not counted again.
	checkError(t, gen(map[string]any{"prompt": strings.Repeat("def f(): pass\n", 250), "max_tokens": 8}, ce.auth()...), 422, "E4008")
	// A success, and a client that leaves a stream after its first event.
	if r := gen(map[string]any{"prompt": "print hello", "max_tokens": 4}, ce.auth()...); r.StatusCode != 200 {
		t.Fatalf("generate: %d %s", r.StatusCode, r.body)
	}
	cancelStream(t, ce)
	// A server error outside the engine.
	if _, err := ce.db.Incidents().Insert(ctx, store.Incident{ID: "INC-20260101-000000AA", Code: "E5003",
		CreatedAt: time.Now().Add(-time.Minute), Path: "/api/v1/users/me"}); err != nil {
		t.Fatal(err)
	}
	storetest.WaitFor(t, "three request-log rows", func() bool {
		n, _ := ce.db.RequestLog().Count(ctx, time.Now().Add(-time.Hour))
		return n == 3
	})
	if err := tally.Flush(ctx); err != nil {
		t.Fatal(err)
	}

	dash := func(q string) map[string]any {
		t.Helper()
		r := ce.do("GET", "/api/v1/errors/dashboard"+q, nil, "X-API-Key", admin)
		if r.StatusCode != 200 {
			t.Fatalf("dashboard%s: %d %s", q, r.StatusCode, r.body)
		}
		return r.json(t)
	}
	codes := func(m map[string]any) map[string]float64 {
		out := map[string]float64{}
		for _, c := range m["top_error_codes"].([]any) {
			c := c.(map[string]any)
			out[c["code"].(string)] = c["count"].(float64)
		}
		return out
	}
	all := dash("")
	// Rows: the refused context length (failed, E4008), the success, the cancel.
	if all["class"] != "all" || all["requests_last_24h"] != 3.0 || all["cancelled_last_24h"] != 1.0 ||
		all["cancel_rate"] != 0.3333 || all["error_rate"] != 0.3333 || all["errors_last_24h"] != 5.0 ||
		all["client_errors_last_24h"] != 4.0 || all["server_errors_last_24h"] != 1.0 {
		t.Errorf("dashboard: %v", all)
	}
	if c := codes(all); len(c) != 3 || c["E4003"] != 2 || c["E4008"] != 2 || c["E5003"] != 1 {
		t.Errorf("top_error_codes %v", all["top_error_codes"])
	}
	client := dash("?class=4xx")
	if c := codes(client); client["class"] != "4xx" || len(c) != 2 || client["errors_last_24h"] != 4.0 || client["error_rate"] != 0.3333 {
		t.Errorf("class=4xx: %v", client)
	}
	server := dash("?class=5xx")
	if c := codes(server); len(c) != 1 || c["E5003"] != 1 || server["errors_last_24h"] != 1.0 || server["error_rate"] != 0.0 {
		t.Errorf("class=5xx: %v", server)
	}
	checkError(t, ce.do("GET", "/api/v1/errors/dashboard?class=3xx", nil, "X-API-Key", admin), 422, "E4008")

	perf := ce.do("GET", "/api/v1/analytics/performance?period=1h", nil, "X-API-Key", admin).json(t)
	if perf["requests"] != 3.0 || perf["cancelled"] != 1.0 || perf["cancel_rate"] != 0.3333 ||
		perf["errors"] != 1.0 || perf["error_rate"] != 0.3333 {
		t.Errorf("performance: %v", perf)
	}
	for name, a := range perf["per_adapter"].(map[string]any) {
		if a := a.(map[string]any); a["errors"].(float64)+a["cancelled"].(float64) > a["requests"].(float64) {
			t.Errorf("adapter %s: %v", name, a)
		}
	}
}

// cancelStream starts a stream and leaves after its first event; it returns once the
// request log holds the cancel.
func cancelStream(t *testing.T, ce *codeEnv) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	body := strings.NewReader(`{"prompt":"Explain Python closures with three examples.","max_tokens":200}`)
	req, err := http.NewRequestWithContext(ctx, "POST", ce.ts.URL+"/api/v1/code/generate/stream", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("X-API-Key", ce.key)
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	for sc.Scan() {
		if strings.Contains(sc.Text(), `"token"`) {
			break
		}
	}
	cancel()
	storetest.WaitFor(t, "the cancel in the request log", func() bool {
		rows, _ := ce.db.RequestLog().Since(context.Background(), time.Now().Add(-time.Hour), "", 0)
		for _, r := range rows {
			if r.Status == store.StatusCancelled {
				return true
			}
		}
		return false
	})
}
