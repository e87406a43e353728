package bench

import (
	"context"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"
)

// TestOpenLoopNoCoordinatedOmission freezes the "server" for the first 500 ms of a
// 100 req/s run. An open loop keeps sending on schedule and charges each request from
// its intended send time, so the freeze shows up as 50 slow requests whose latencies
// fall by 10 ms each; a closed loop would have sent one request and hidden the rest.
func TestOpenLoopNoCoordinatedOmission(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		frozenUntil := start.Add(500 * time.Millisecond)
		target := TargetFunc(func(ctx context.Context, i int) Sample {
			time.Sleep(time.Until(frozenUntil))
			return Sample{Tokens: 1}
		})
		r := Run(context.Background(), Load{Rate: 100, Duration: time.Second}, target)
		if r.Requests != 100 || r.OK != 100 || r.ErrorCount() != 0 {
			t.Fatalf("requests %d ok %d errors %v, want 100/100/0", r.Requests, r.OK, r.Errors)
		}
		if got := r.SendLag.Max(); got != 0 {
			t.Fatalf("send lag max %v: the scheduler waited for answers", got)
		}
		// 50 requests at 0, 10, …, 490 ms answered at 500 ms: latencies 500, 490, …, 10 ms;
		// the other 50 answered at once.
		checks := []struct {
			q    float64
			want time.Duration
		}{{0.5, 0}, {0.51, 10 * time.Millisecond}, {0.75, 250 * time.Millisecond}, {1, 500 * time.Millisecond}}
		for _, c := range checks {
			if got := r.Latency.Quantile(c.q); got != c.want {
				t.Errorf("latency q%.2f = %v, want %v", c.q, got, c.want)
			}
		}
		if r.Tokens != 100 || r.Next != 100 {
			t.Errorf("tokens %d next %d", r.Tokens, r.Next)
		}
	})
}

func TestOpenLoopSchedule(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		var sent [20]time.Duration
		target := TargetFunc(func(ctx context.Context, i int) Sample {
			sent[i-7] = time.Since(start)
			return Sample{}
		})
		r := Run(context.Background(), Load{Rate: 50, Duration: 400 * time.Millisecond, First: 7}, target)
		if r.Requests != 20 || r.Next != 27 {
			t.Fatalf("requests %d next %d, want 20 and 27", r.Requests, r.Next)
		}
		for k, at := range sent {
			if want := time.Duration(k) * 20 * time.Millisecond; at != want {
				t.Errorf("request %d sent at %v, want %v", k, at, want)
			}
		}
	})
}

func TestOpenLoopOverload(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		target := TargetFunc(func(ctx context.Context, i int) Sample {
			<-ctx.Done()
			return Sample{Err: "timeout"}
		})
		r := Run(context.Background(), Load{Rate: 100, Duration: 100 * time.Millisecond, MaxInFlight: 3, Timeout: time.Second}, target)
		if r.Requests != 10 || r.Errors["overload"] != 7 || r.Errors["timeout"] != 3 {
			t.Fatalf("requests %d errors %v, want 10 with overload ×7 and timeout ×3", r.Requests, r.Errors)
		}
	})
}

func TestClosedLoopConcurrency(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		var inFlight, peak atomic.Int64
		target := TargetFunc(func(ctx context.Context, i int) Sample {
			n := inFlight.Add(1)
			for {
				p := peak.Load()
				if n <= p || peak.CompareAndSwap(p, n) {
					break
				}
			}
			time.Sleep(10 * time.Millisecond)
			inFlight.Add(-1)
			return Sample{Err: map[bool]string{true: "http 500"}[i%10 == 0]}
		})
		r := Run(context.Background(), Load{Concurrency: 4, Duration: 100 * time.Millisecond}, target)
		if peak.Load() != 4 {
			t.Errorf("peak in flight %d, want 4", peak.Load())
		}
		// 4 workers × 10 rounds of 10 ms.
		if r.Requests != 40 || r.Errors["http 500"] != 4 || r.OK != 36 {
			t.Fatalf("requests %d ok %d errors %v", r.Requests, r.OK, r.Errors)
		}
		if got := r.Latency.Quantile(0.99); got != 10*time.Millisecond {
			t.Errorf("p99 %v, want 10ms", got)
		}
	})
}
