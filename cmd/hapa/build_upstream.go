package main

import (
	"context"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/vllm"
	"github.com/hapa-project/hapa/vllm/sim"
)

// upstream is the vLLM pool, over VLLM_SERVER_URL or the built-in simulator.
type upstream struct {
	pool      *vllm.Pool
	simulated bool
	// timings receives every finished upstream request; buildEngine points it at the
	// metrics registry it makes (the pool is built first).
	timings *upstreamTimings
}

// upstreamTimings forwards the pool's OnDone to the per-replica histograms, once they
// exist.
type upstreamTimings struct {
	m atomic.Pointer[realtime.UpstreamMetrics]
}

func (u *upstreamTimings) done(replica string, ttft, total time.Duration, outcome string) {
	if m := u.m.Load(); m != nil {
		m.Done(replica, ttft, total, outcome)
	}
}

// buildUpstream builds the vLLM pool over VLLM_SERVER_URL, or starts the built-in
// simulator on a loopback port and points the pool at it.
func (a *app) buildUpstream(ctx context.Context) (*upstream, error) {
	cfg := a.cfg
	urls := cfg.VLLMServerURLs
	simulated := cfg.Simulated()
	if simulated {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		simCtx, stop := context.WithCancel(context.WithoutCancel(ctx))
		done := make(chan struct{})
		go func() {
			defer close(done)
			sim.Serve(simCtx, ln, sim.New(sim.Config{Model: cfg.VLLMBaseModel, APIKey: cfg.AIModelAPIKey, TTFT: cfg.SimTTFT, ITL: cfg.SimITL}))
		}()
		a.onClose(func() { stop(); <-done })
		urls = []string{"http://" + ln.Addr().String()}
		a.log.Warn("VLLM_SERVER_URL is not set: using the built-in vLLM simulator", "url", urls[0])
	}
	panics := &everyLog{every: 10 * time.Second}
	timings := &upstreamTimings{}
	pool, err := vllm.NewPool(vllm.PoolConfig{
		URLs:              urls,
		APIKey:            cfg.AIModelAPIKey,
		ConnectTimeout:    cfg.VLLMConnect,
		FirstTokenTimeout: cfg.VLLMFirstToken,
		IdleTimeout:       cfg.VLLMIdle,
		OnCircuit: func(replica string, s vllm.CircuitState) {
			a.log.Warn("upstream circuit changed", "replica", replica, "circuit", string(s))
		},
		OnDone: timings.done,
		OnPanic: func(replica string) {
			if n, ok := panics.due(); ok {
				a.log.Warn("every upstream replica is ejected: routing to the healthy one anyway (panic routing)",
					"replica", replica, "requests_since_last_line", n)
			}
		},
	})
	if err != nil {
		return nil, err
	}
	a.addLoop("vllm-probe", func(ctx context.Context) error { pool.Run(ctx); return nil })
	return &upstream{pool: pool, simulated: simulated, timings: timings}, nil
}

// everyLog lets a frequent event through to the log at most once per every; due
// reports how many events there were since the last line.
type everyLog struct {
	every time.Duration
	mu    sync.Mutex
	last  time.Time
	n     int
}

func (e *everyLog) due() (int, bool) {
	e.mu.Lock()
	defer e.mu.Unlock()
	e.n++
	if now := time.Now(); now.Sub(e.last) >= e.every {
		n := e.n
		e.last, e.n = now, 0
		return n, true
	}
	return 0, false
}
