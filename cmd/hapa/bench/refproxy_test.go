package bench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/vllm/sim"
)

// TestRefProxy drives both routes of the reference proxy with the suite's own targets
// and checks that a three-way comparison rotates every side through every round.
func TestRefProxy(t *testing.T) {
	simulator := sim.New(sim.Config{})
	simSrv := httptest.NewServer(simulator)
	t.Cleanup(simSrv.Close)
	h, err := RefProxy(simSrv.URL+"/", "", nil)
	if err != nil {
		t.Fatal(err)
	}
	ref := httptest.NewServer(h)
	t.Cleanup(ref.Close)
	hc := NewHTTPClient(8)
	t.Cleanup(hc.CloseIdleConnections)
	ctx := context.Background()
	load := Load{Concurrency: 2, Duration: time.Minute, MaxRequests: 6}

	for _, tt := range []struct {
		name   string
		target Target
	}{
		{"one-shot", RESTTarget(hc, ref.URL, "", GenBody("p", 0.7, 5, true))},
		{"stream", SSETarget(hc, ref.URL, "", GenBody("p", 0.7, 5, true))},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := Run(ctx, load, tt.target)
			if r.OK != 6 || r.ErrorCount() != 0 || r.Tokens != 30 {
				t.Fatalf("%d ok, errors %v, %d tokens; want 6, none, 30", r.OK, r.Errors, r.Tokens)
			}
			if tt.name == "stream" && r.TTFT.Count() != 6 {
				t.Fatalf("%d first tokens seen, want 6", r.TTFT.Count())
			}
		})
	}

	t.Run("bad body", func(t *testing.T) {
		resp, err := hc.Post(ref.URL+"/api/v1/code/generate", "application/json", strings.NewReader(`{"prompt":`))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("status %d, want 400", resp.StatusCode)
		}
	})

	t.Run("upstream down", func(t *testing.T) {
		hd, _ := RefProxy("http://127.0.0.1:1", "", nil)
		down := httptest.NewServer(hd)
		t.Cleanup(down.Close)
		r := Run(ctx, Load{Concurrency: 1, Duration: time.Minute, MaxRequests: 1}, RESTTarget(hc, down.URL, "", GenBody("p", 0.7, 5, true)))
		if r.Errors["http 502 E5001"] != 1 {
			t.Fatalf("errors %v, want one http 502 E5001", r.Errors)
		}
	})

	t.Run("compare", func(t *testing.T) {
		hapaSide := RESTTarget(hc, ref.URL, "", GenBody("p", 0.7, 2, true))
		direct := VLLMStreamTarget(hc, simSrv.URL, VLLMBody("p", 0.7, 2, true))
		refSide := SSETarget(hc, ref.URL, "", GenBody("p", 0.7, 2, true))
		c := CompareRef(ctx, Load{Concurrency: 1, Duration: time.Minute, MaxRequests: 2}, 3, hapaSide, direct, refSide, 0, 0)
		if c.HAPA.OK != 6 || c.Direct.OK != 6 || c.Ref == nil || c.Ref.OK != 6 || c.Ref.TTFT.Count() != 6 {
			t.Fatalf("ok: HAPA %d, direct %d, ref %+v", c.HAPA.OK, c.Direct.OK, c.Ref)
		}
		var order []string
		side := func(name string) Target {
			return TargetFunc(func(context.Context, int) Sample {
				if len(order) == 0 || order[len(order)-1] != name {
					order = append(order, name)
				}
				return Sample{}
			})
		}
		CompareRef(ctx, Load{Concurrency: 1, Duration: time.Minute, MaxRequests: 1}, 3, side("hapa"), side("direct"), side("ref"), 0, 0)
		if got, want := strings.Join(order, " "), "direct hapa ref hapa ref direct ref direct hapa"; got != want {
			t.Fatalf("order %q, want %q", got, want)
		}
		if Compare(ctx, Load{Concurrency: 1, Duration: time.Minute, MaxRequests: 1}, 2, hapaSide, direct, 0).Ref != nil {
			t.Fatal("a two-way comparison has a reference side")
		}
	})
}
