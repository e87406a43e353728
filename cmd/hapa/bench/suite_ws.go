package bench

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/hapa-project/hapa/realtime/ws/wsclient"
)

// websocket is scenario (c): idle sockets' memory, then 1,000 sockets × 2 streams.
func (s *suite) websocket(ctx context.Context) error {
	st, err := s.stack(ctx, "websocket", paceSim, false)
	if err != nil {
		return err
	}
	defer st.Stop()
	pid := st.GW.Pid()
	// One socket first, so that the hub, the key cache and the runtime are warm.
	warm := DialPool(ctx, s.hc, st.GW.URL, DemoKey, 1, 1)
	time.Sleep(s.d(time.Second))
	before, _ := ReadProc(pid)
	n := s.o.Sockets
	t0 := time.Now()
	pool := DialPool(ctx, s.hc, st.GW.URL, DemoKey, n, 128)
	dialTime := time.Since(t0)
	defer pool.Close()
	defer warm.Close()
	time.Sleep(s.d(2 * time.Second))
	after, _ := ReadProc(pid)
	open := pool.Open()
	per := int64(0)
	if open > 0 {
		per = (after.RSS - before.RSS) / int64(open)
	}
	s.logf("  %d sockets open (%s), %.1f KiB each", open, Errors(pool.Errors), float64(per)/1024)
	s.rep.Goals = append(s.rep.Goals, Goal{fmt.Sprintf("WebSocket RSS per idle authenticated socket at %d sockets", n),
		"≤ 10 KiB", fmt.Sprintf("%.1f KiB (%d open)", float64(per)/1024, open), Check(per <= 10<<10 && open == n)})
	idle := Table{Header: []string{"sockets asked", "open", "dial errors", "dial time", "RSS before", "RSS after", "RSS per socket"},
		Rows: [][]string{{fmt.Sprint(n), fmt.Sprint(open), Errors(pool.Errors), fmt.Sprintf("%.1f s", dialTime.Seconds()),
			MiB(before.RSS), MiB(after.RSS), fmt.Sprintf("%.1f KiB", float64(per)/1024)}}}

	// 1,000 of them with two streams each, back to back.
	active := &WSPool{Clients: pool.Clients[:min(1000, len(pool.Clients))]}
	res, u := perSocketLoad(ctx, active, 2, s.d(10*time.Second), pid)
	busy := Table{Header: append([]string{"load"}, ResultHeader...),
		Rows: [][]string{append([]string{fmt.Sprintf("%d sockets × 2 streams", len(active.Clients))}, ResultRow("HAPA", res)...)}}
	s.rep.Sections = append(s.rep.Sections, Section{Title: "(c) WebSocket sockets",
		Text: fmt.Sprintf("Idle: %d hapa.v1 sockets dialled with the API key in the handshake (X-API-Key), each "+
			"answered `session.created`; RSS per socket = (VmRSS after − VmRSS before) / open sockets, read 2 s after "+
			"the last dial (one warm-up socket, %d, was open before). Active: %d of those sockets "+
			"each run 2 `generation.create` streams back to back (max_tokens 40, unique prompts) for %.0f s, the 2,000 "+
			"workers starting evenly over the first second; the simulator sends a token every 50 ms (2,000 streams "+
			"offer 40,000 tokens/s). Gateway during the active run: %.0f %% of a core, peak RSS %s (with all %d sockets open).",
			n, len(warm.Clients), len(active.Clients), s.d(10*time.Second).Seconds(), u.CPUPercent(), MiB(u.PeakRSS), open),
		Tables: []Table{idle, busy}})
	return nil
}

// perSocketLoad runs streams generations at a time on every socket of p for d. The
// workers start spread evenly over the first rampUp, as editors do, rather than in one
// instant (a herd of thousands of simultaneous upstream dials is another test).
func perSocketLoad(ctx context.Context, p *WSPool, streams int, d time.Duration, pid int) (*Result, ProcUsage) {
	const rampUp = time.Second
	rc := &recorder{res: Result{Errors: map[string]int{}}}
	stop := Watch(ctx, pid, 100*time.Millisecond)
	start := time.Now()
	deadline := start.Add(d)
	workers := len(p.Clients) * streams
	var wg sync.WaitGroup
	for ci, c := range p.Clients {
		one := &WSPool{Clients: []*wsclient.Client{c}}
		t := WSTarget(one, benchPrompt, 0.7, 40, true)
		for k := range streams {
			wg.Add(1)
			go func() {
				defer wg.Done()
				time.Sleep(time.Duration(ci*streams+k) * rampUp / time.Duration(workers))
				for i := 0; time.Now().Before(deadline) && ctx.Err() == nil; i++ {
					t0 := time.Now()
					sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
					smp := t.Do(sctx, (ci*streams+k)<<16+i)
					cancel()
					rc.add(t0, time.Now(), smp)
				}
			}()
		}
	}
	wg.Wait()
	rc.res.Elapsed = time.Since(start)
	return &rc.res, stop()
}
