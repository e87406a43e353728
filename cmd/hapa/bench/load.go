package bench

import (
	"context"
	"maps"
	"sync"
	"time"
)

// Sample is the outcome of one request as a Target reports it.
type Sample struct {
	Err        string    // "" on success, else a bounded class: "http 429 E4004", "E5001", "conn", "timeout"
	FirstToken time.Time // when the first token arrived; zero when the answer is not streamed
	Tokens     int       // completion tokens of the answer
	Cached     bool      // the gateway said it came from its cache
	Coalesced  bool      // the gateway said it joined an identical in-flight request
}

// Target sends request number i and reports how it went. It must honour ctx.
type Target interface {
	Do(ctx context.Context, i int) Sample
}

// TargetFunc adapts a function to Target.
type TargetFunc func(ctx context.Context, i int) Sample

// Do calls f.
func (f TargetFunc) Do(ctx context.Context, i int) Sample { return f(ctx, i) }

// Load describes one run: open loop at Rate requests/s when Rate > 0, else closed loop
// with Concurrency requests in flight. Both stop scheduling after Duration.
type Load struct {
	Rate        float64
	Concurrency int
	Duration    time.Duration
	// MaxRequests caps the requests of a run (0 = no cap beyond Duration).
	MaxRequests int
	// MaxInFlight bounds the outstanding requests of an open-loop run (default 20,000):
	// a request due while the bound is reached is not sent and counts as error
	// "overload" with its would-be latency unknown.
	MaxInFlight int
	// Timeout bounds each request (default 30s).
	Timeout time.Duration
	// First is the index of the run's first request (targets derive unique prompts
	// from it); consecutive runs pass on Result.Next.
	First int
	// RampUp spreads the closed-loop workers' first requests evenly over this time
	// instead of starting all at once. Workers whose requests take the same time stay
	// in step, so without it 1,000 streams start in bursts of 1,000 for the whole run;
	// editors start theirs spread out.
	RampUp time.Duration
}

// Result is what one run measured.
type Result struct {
	Requests  int            // sent
	OK        int            // answered without error
	Errors    map[string]int // by class
	Elapsed   time.Duration  // from the first intended send to the last answer
	Latency   Hist           // whole request; open loop: from the intended send time
	TTFT      Hist           // time to first token, from the same origin as Latency
	SendLag   Hist           // open loop: actual − intended send time (scheduler health)
	Tokens    int64          // completion tokens of the successful answers
	Cached    int            // answers marked cached
	Coalesced int            // answers marked coalesced
	Next      int            // index after the last request
}

// Throughput is successful requests per second.
func (r *Result) Throughput() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.OK) / r.Elapsed.Seconds()
}

// TokenRate is completion tokens per second.
func (r *Result) TokenRate() float64 {
	if r.Elapsed <= 0 {
		return 0
	}
	return float64(r.Tokens) / r.Elapsed.Seconds()
}

// ErrorCount is the number of failed requests.
func (r *Result) ErrorCount() int {
	n := 0
	for _, v := range r.Errors {
		n += v
	}
	return n
}

// Merge folds o into r (rounds of one side of a comparison).
func (r *Result) Merge(o *Result) {
	r.Requests += o.Requests
	r.OK += o.OK
	if r.Errors == nil {
		r.Errors = map[string]int{}
	}
	for k, v := range o.Errors {
		r.Errors[k] += v
	}
	r.Elapsed += o.Elapsed
	r.Latency.Merge(&o.Latency)
	r.TTFT.Merge(&o.TTFT)
	r.SendLag.Merge(&o.SendLag)
	r.Tokens += o.Tokens
	r.Cached += o.Cached
	r.Coalesced += o.Coalesced
	r.Next = max(r.Next, o.Next)
}

// recorder collects samples from many goroutines.
type recorder struct {
	mu  sync.Mutex
	res Result
}

func (rc *recorder) add(origin, end time.Time, s Sample) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.res.Requests++
	if s.Err != "" {
		rc.res.Errors[s.Err]++
		return
	}
	rc.res.OK++
	rc.res.Latency.Add(end.Sub(origin))
	if !s.FirstToken.IsZero() {
		rc.res.TTFT.Add(s.FirstToken.Sub(origin))
	}
	rc.res.Tokens += int64(s.Tokens)
	if s.Cached {
		rc.res.Cached++
	}
	if s.Coalesced {
		rc.res.Coalesced++
	}
}

func (rc *recorder) fail(class string) {
	rc.mu.Lock()
	rc.res.Requests++
	rc.res.Errors[class]++
	rc.mu.Unlock()
}

// Run executes l against t and returns the measurements. It returns early, with what
// it has, when ctx ends.
func Run(ctx context.Context, l Load, t Target) *Result {
	if l.Timeout <= 0 {
		l.Timeout = 30 * time.Second
	}
	rc := &recorder{res: Result{Errors: map[string]int{}}}
	start := time.Now()
	var n int
	if l.Rate > 0 {
		n = openLoop(ctx, l, t, rc, start)
	} else {
		n = closedLoop(ctx, l, t, rc, start)
	}
	rc.res.Elapsed = time.Since(start)
	rc.res.Next = l.First + n
	res := rc.res
	res.Errors = maps.Clone(rc.res.Errors)
	return &res
}

func (l Load) one(ctx context.Context, t Target, i int) Sample {
	ctx, cancel := context.WithTimeout(ctx, l.Timeout)
	defer cancel()
	s := t.Do(ctx, i)
	if s.Err == "" && ctx.Err() == context.DeadlineExceeded {
		s.Err = "timeout"
	}
	return s
}

// openLoop sends request k at start + k/Rate whatever the answers do, and measures
// from that intended time. It returns how many requests it scheduled.
func openLoop(ctx context.Context, l Load, t Target, rc *recorder, start time.Time) int {
	maxInFlight := l.MaxInFlight
	if maxInFlight <= 0 {
		maxInFlight = 20000
	}
	interval := time.Duration(float64(time.Second) / l.Rate)
	sem := make(chan struct{}, maxInFlight)
	var wg sync.WaitGroup
	k := 0
	for ; l.MaxRequests == 0 || k < l.MaxRequests; k++ {
		due := start.Add(time.Duration(k) * interval)
		if due.Sub(start) >= l.Duration {
			break
		}
		if d := time.Until(due); d > 0 {
			select {
			case <-time.After(d):
			case <-ctx.Done():
			}
		}
		if ctx.Err() != nil {
			break
		}
		select {
		case sem <- struct{}{}:
		default:
			rc.fail("overload")
			continue
		}
		lag := time.Since(due)
		rc.mu.Lock()
		rc.res.SendLag.Add(lag)
		rc.mu.Unlock()
		wg.Add(1)
		go func(i int, due time.Time) {
			defer wg.Done()
			defer func() { <-sem }()
			s := l.one(ctx, t, i)
			rc.add(due, time.Now(), s)
		}(l.First+k, due)
	}
	wg.Wait()
	return k
}

// closedLoop keeps Concurrency workers busy until Duration has passed.
func closedLoop(ctx context.Context, l Load, t Target, rc *recorder, start time.Time) int {
	c := max(l.Concurrency, 1)
	deadline := start.Add(l.Duration)
	var mu sync.Mutex
	k := 0
	next := func() (int, bool) {
		mu.Lock()
		defer mu.Unlock()
		if ctx.Err() != nil || !time.Now().Before(deadline) || (l.MaxRequests > 0 && k >= l.MaxRequests) {
			return 0, false
		}
		k++
		return l.First + k - 1, true
	}
	var wg sync.WaitGroup
	for w := range c {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if l.RampUp > 0 {
				select {
				case <-time.After(l.RampUp * time.Duration(w) / time.Duration(c)):
				case <-ctx.Done():
					return
				}
			}
			for {
				i, ok := next()
				if !ok {
					return
				}
				t0 := time.Now()
				s := l.one(ctx, t, i)
				rc.add(t0, time.Now(), s)
			}
		}()
	}
	wg.Wait()
	return k
}
