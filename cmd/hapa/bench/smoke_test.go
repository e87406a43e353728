package bench

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/vllm/sim"
)

// fakeGateway answers HAPA's two code routes the way the real handlers shape them.
func fakeGateway(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	auth := func(w http.ResponseWriter, r *http.Request) bool {
		if r.Header.Get("X-API-Key") != "k" {
			w.WriteHeader(http.StatusUnauthorized)
			fmt.Fprint(w, `{"error_code":"E4003","status":"error"}`)
			return false
		}
		return true
	}
	mux.HandleFunc("POST /api/v1/code/generate", func(w http.ResponseWriter, r *http.Request) {
		if auth(w, r) {
			fmt.Fprint(w, `{"success":true,"generated_code":"x","token_usage":{"prompt_tokens":3,"completion_tokens":7,"total_tokens":10},"cached":true}`)
		}
	})
	mux.HandleFunc("POST /api/v1/code/generate/stream", func(w http.ResponseWriter, r *http.Request) {
		if !auth(w, r) {
			return
		}
		w.Header().Set("Content-Type", "text/event-stream")
		for _, ev := range []string{`{"type":"start","content":""}`, `{"type":"token","content":"a"}`,
			`{"type":"token","content":"b"}`, `{"type":"done","content":"","metadata":{"usage":{"completion_tokens":2},"coalesced":true}}`, `[DONE]`} {
			fmt.Fprintf(w, "data: %s\n\n", ev)
			w.(http.Flusher).Flush()
		}
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestSmokeClosedLoop(t *testing.T) {
	simulator := sim.New(sim.Config{})
	simSrv := httptest.NewServer(simulator)
	t.Cleanup(simSrv.Close)
	gw := fakeGateway(t)
	hc := NewHTTPClient(8)
	t.Cleanup(hc.CloseIdleConnections)
	ctx := context.Background()
	load := Load{Concurrency: 4, Duration: time.Minute, MaxRequests: 20}

	tests := []struct {
		name               string
		target             Target
		tokens             int64
		ttft, cached, coal int
		errs               map[string]int
	}{
		{"rest", RESTTarget(hc, gw.URL, "k", GenBody("p", 0.7, 16, true)), 140, 0, 20, 0, nil},
		{"rest bad key", RESTTarget(hc, gw.URL, "nope", GenBody("p", 0.7, 16, true)), 0, 0, 0, 0, map[string]int{"http 401 E4003": 20}},
		{"sse", SSETarget(hc, gw.URL, "k", GenBody("p", 0.7, 16, true)), 40, 20, 0, 20, nil},
		{"vllm stream", VLLMStreamTarget(hc, simSrv.URL, VLLMBody("def f():", 0.7, 5, true)), 100, 20, 0, 0, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Run(ctx, load, tt.target)
			wantOK := 20
			if tt.errs != nil {
				wantOK = 0
			}
			if r.Requests != 20 || r.OK != wantOK || r.Tokens != tt.tokens || r.TTFT.Count() != tt.ttft ||
				r.Cached != tt.cached || r.Coalesced != tt.coal {
				t.Fatalf("got requests %d ok %d tokens %d ttft %d cached %d coalesced %d errors %v",
					r.Requests, r.OK, r.Tokens, r.TTFT.Count(), r.Cached, r.Coalesced, r.Errors)
			}
			if tt.errs != nil && fmt.Sprint(r.Errors) != fmt.Sprint(tt.errs) {
				t.Fatalf("errors %v, want %v", r.Errors, tt.errs)
			}
		})
	}

	t.Run("compare", func(t *testing.T) {
		hapa := SSETarget(hc, gw.URL, "k", GenBody("p", 0.7, 16, true))
		direct := VLLMStreamTarget(hc, simSrv.URL, VLLMBody("p", 0.7, 2, true))
		c := Compare(ctx, Load{Concurrency: 2, Duration: time.Minute, MaxRequests: 6}, 2, hapa, direct, 0)
		if c.HAPA.OK != 12 || c.Direct.OK != 12 || c.HAPA.Latency.Count() != 12 {
			t.Fatalf("HAPA %d ok, direct %d ok (errors %v / %v)", c.HAPA.OK, c.Direct.OK, c.HAPA.Errors, c.Direct.Errors)
		}
	})

	t.Run("sim counters", func(t *testing.T) {
		// The simulator counts a request just after its last write: wait for the 32.
		for i := 0; i < 500 && simulator.Stats().Completed < 32; i++ {
			time.Sleep(10 * time.Millisecond)
		}
		c, err := ReadSimCounters(ctx, hc, simSrv.URL)
		if err != nil {
			t.Fatal(err)
		}
		if c.Finished != 32 || c.Aborted != 0 {
			t.Fatalf("simulator finished %d requests (%d aborted), want 32 (0)", c.Finished, c.Aborted)
		}
	})
}

// TestCloseProxySeesAbort streams from a slow simulator through the proxy, lets go
// after the first token and expects one abort, and none for a stream read to its end.
func TestCloseProxySeesAbort(t *testing.T) {
	s := sim.New(sim.Config{ITL: 5 * time.Millisecond})
	simSrv := httptest.NewServer(s)
	t.Cleanup(simSrv.Close)
	p, err := NewCloseProxy(strings.TrimPrefix(simSrv.URL, "http://"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Close)
	hc := NewHTTPClient(2)
	t.Cleanup(hc.CloseIdleConnections)
	base := "http://" + p.Addr()

	// Read to the end: no abort.
	r := Run(context.Background(), Load{Concurrency: 1, Duration: time.Minute, MaxRequests: 1},
		VLLMStreamTarget(hc, base, VLLMBody("x", 0.7, 3, false)))
	if r.OK != 1 {
		t.Fatalf("full stream: %v", r.Errors)
	}

	ctx, cancel := context.WithCancel(context.Background())
	resp, err := post(ctx, hc, base+"/v1/completions", "", VLLMBody("x", 0.7, 1000, false)(0))
	if err != nil {
		t.Fatal(err)
	}
	var cancelled time.Time
	_ = readSSE(resp.Body, func([]byte) bool { cancelled = time.Now(); cancel(); return false })
	resp.Body.Close()
	d, ok := waitAbort(p, cancelled)
	if !ok || d < 0 {
		t.Fatalf("no abort seen (ok %v, %v)", ok, d)
	}
	select {
	case extra := <-p.Aborts():
		t.Fatalf("second abort at %v", extra)
	case <-time.After(50 * time.Millisecond):
	}
}
