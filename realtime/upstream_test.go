package realtime

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/hapa-project/hapa/vllm"
	"github.com/hapa-project/hapa/vllm/sim"
)

func TestUpstreamErrors(t *testing.T) {
	tests := []struct {
		name     string
		opt      harnessOpt
		mod      func(r *Request)
		code     Code
		incident bool
		text     bool // some text before the error
	}{
		{"unavailable 503", harnessOpt{sim: sim.Config{Faults: sim.Faults{ErrorRate: 1, ErrorStatus: 503}}}, nil, CodeModelUnavailable, true, false},
		{"server error 500", harnessOpt{sim: sim.Config{Faults: sim.Faults{ErrorRate: 1, ErrorStatus: 500}}}, nil, CodeModelError, true, false},
		{"error mid-stream", harnessOpt{sim: sim.Config{Faults: sim.Faults{ErrorInStreamRate: 1}}}, nil, CodeModelError, true, true},
		{"disconnect mid-stream", harnessOpt{sim: sim.Config{Faults: sim.Faults{DisconnectAfterTokens: 3}}}, nil, CodeModelError, true, true},
		{"first-token timeout", harnessOpt{sim: sim.Config{Faults: sim.Faults{HangBeforeFirstToken: true}},
			client: vllm.ClientConfig{FirstTokenTimeout: 50 * time.Millisecond}}, nil, CodeModelTimeout, true, false},
		{"explicit unknown model", harnessOpt{}, func(r *Request) { r.Model = "gpt-17" }, CodeNotFound, false, false},
		{"output over the size cap", harnessOpt{cfg: EngineConfig{MaxOutputBytes: 24}}, nil, CodeModelError, true, true},
		{"context length", harnessOpt{sim: sim.Config{MaxModelLen: 64}}, func(r *Request) { r.MaxTokens = 60 }, CodeOutOfRange, false, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			tc.opt.noCache = true
			h := newHarness(t, tc.opt)
			req := genReq("write a quick sort")
			if tc.mod != nil {
				tc.mod(&req)
			}
			res, err := h.e.Generate(context.Background(), req)
			e := AsError(err)
			if e == nil || e.Code != tc.code {
				t.Fatalf("got %v, want %s", err, tc.code)
			}
			if (res.Text != "") != tc.text {
				t.Fatalf("text before the error = %q, want some: %v", res.Text, tc.text)
			}
			if tc.incident != (e.IncidentID != "") || (len(h.incidents.list()) == 1) != tc.incident {
				t.Fatalf("incident id %q, recorded %v; want recorded %v", e.IncidentID, h.incidents.list(), tc.incident)
			}
			if strings.Contains(e.Message, "vllm:") {
				t.Fatalf("internal detail in the client message: %q", e.Message)
			}
			waitEngine(t, "row", func() bool { return len(h.logs.snapshot()) == 1 })
			if r := h.logs.snapshot()[0]; r.ErrorCode != string(tc.code) || r.Status != e.Status() {
				t.Fatalf("row %+v", r)
			}
		})
	}
}

func TestCoalescedSubscribersShareOneIncident(t *testing.T) {
	h := newHarness(t, harnessOpt{noCache: true, sim: sim.Config{ITL: 5 * time.Millisecond,
		Faults: sim.Faults{ErrorInStreamRate: 1}}})
	var streams []*Stream
	for range 3 {
		s, err := h.e.Start(context.Background(), genReq("a failing request"))
		if err != nil {
			t.Fatal(err)
		}
		defer s.Close()
		streams = append(streams, s)
	}
	for _, s := range streams {
		if _, end := drain(t, s); end.Err == nil || end.Err.Code != CodeModelError || !end.Err.Retryable() || end.Err.IncidentID == "" {
			t.Fatalf("end %+v", end)
		}
	}
	if n := len(h.incidents.list()); n != 1 {
		t.Fatalf("incidents %d, want 1", n)
	}
}

func TestShutdownEndsFlights(t *testing.T) {
	h := newHarness(t, harnessOpt{noCache: true, sim: sim.Config{ITL: 50 * time.Millisecond}})
	req := genReq("a long answer")
	req.MaxTokens = 200
	s, err := h.e.Start(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	h.stop()
	_, end := drain(t, s)
	if end.Err == nil || end.Err.Code != CodeModelUnavailable {
		t.Fatalf("end %+v", end)
	}
	if got := h.incidents.list(); len(got) != 0 {
		t.Fatalf("incidents %v for a shutdown", got)
	}
}

func TestNewEngineConfig(t *testing.T) {
	up := (*vllm.Client)(nil)
	if _, err := NewEngine(EngineConfig{}, EngineDeps{}); err == nil {
		t.Error("no upstream accepted")
	}
	if _, err := NewEngine(EngineConfig{CacheScope: "user"}, EngineDeps{Upstream: up}); err == nil {
		t.Error("bad scope accepted")
	}
	if _, err := NewEngine(EngineConfig{LogQueue: -1}, EngineDeps{Upstream: up}); err == nil {
		t.Error("negative queue accepted")
	}
	e := newTestEngine(t, EngineConfig{}, EngineDeps{})
	c := e.cfg
	if c.CacheTTL != 1800*time.Second || c.CacheMaxTemperature != 0.3 || c.MaxPromptChars != 4000 ||
		c.MaxTokensLimit != 4096 || c.LogQueue != 10000 || c.CacheScope != CacheScopeGlobal {
		t.Fatalf("defaults %+v", c)
	}
}

func TestNextWithStartContextIsDeterministic(t *testing.T) {
	h := newHarness(t, harnessOpt{noCache: true, sim: sim.Config{ITL: 5 * time.Millisecond}})
	for range 20 {
		ctx, cancel := context.WithCancel(context.Background())
		s, err := h.e.Start(ctx, genReq("read stdin line by line"))
		if err != nil {
			t.Fatal(err)
		}
		cancel()
		ev, err := s.Next(ctx) // the same context: the cancelled Done, never ctx.Err()
		if err != nil || ev.Done == nil || ev.Done.FinishReason != "cancelled" {
			t.Fatalf("got %+v, %v", ev, err)
		}
		s.Close()
	}
}

func TestStartWithCancelledContext(t *testing.T) {
	h := newHarness(t, harnessOpt{noCache: true})
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	for range 20 {
		s, err := h.e.Start(ctx, genReq("already gone"))
		if err != nil {
			t.Fatal(err)
		}
		if _, end := drain(t, s); end.Done == nil || end.Done.FinishReason != "cancelled" {
			t.Fatalf("end %+v", end)
		}
		s.Close()
	}
	waitEngine(t, "20 rows", func() bool { return h.e.Stats().LogWritten == 20 })
}

func TestRawUsesBaseModel(t *testing.T) {
	e := newTestEngine(t, EngineConfig{BaseModel: "deepseek-coder-base"}, EngineDeps{})
	if up := rendered(t, e, Request{Prompt: "def f(", Raw: true}); up.Model != "deepseek-coder-base" || up.Prompt != "def f(" {
		t.Fatalf("raw upstream %+v", up)
	}
}
