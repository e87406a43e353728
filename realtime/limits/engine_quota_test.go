package limits

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/store/storetest"
	"github.com/hapa-project/hapa/vllm"
	"github.com/hapa-project/hapa/vllm/sim"
)

// rowLog keeps the engine's request-log rows.
type rowLog struct {
	mu   sync.Mutex
	rows []store.RequestLogRow
}

func (l *rowLog) InsertBatch(_ context.Context, rows []store.RequestLogRow) error {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.rows = append(l.rows, rows...)
	return nil
}

// quotaEngine is the real engine over the simulator with q as its quota.
func quotaEngine(t *testing.T, q *Quotas) (*realtime.Engine, *rowLog) {
	t.Helper()
	srv := httptest.NewServer(sim.New(sim.Config{Seed: 3}))
	t.Cleanup(srv.Close)
	client, err := vllm.NewClient(vllm.ClientConfig{BaseURL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	log := &rowLog{}
	e, err := realtime.NewEngine(realtime.EngineConfig{LogFlushInterval: 5 * time.Millisecond},
		realtime.EngineDeps{Upstream: client, Quota: q, Log: q.ChargeLog(log)})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = e.Run(ctx) }()
	t.Cleanup(func() { cancel(); <-done })
	return e, log
}

// TestQuotaHoldsAtTheEngine: a key with 1,500 tokens a minute, asked one request
// after another and then 30 at once, is never given more than its quota; one after
// another it is refused (E4016) only once fewer tokens are left than one request may
// use. The windows hold exactly what the rows say was charged. (Each request has a
// ~500-byte system prompt: about 190 tokens used, 260 reserved.)
func TestQuotaHoldsAtTheEngine(t *testing.T) {
	const quota = 1500
	now := time.Date(2026, 5, 6, 10, 20, 5, 0, time.UTC)
	run := func(t *testing.T, q *Quotas, concurrent bool) {
		q.now = func() time.Time { return now }
		e, log := quotaEngine(t, q)
		caller := realtime.Caller{KeyID: 21, Quota: realtime.Quota{TokensPerMinute: quota}}
		ctx := context.Background()
		req := func(i int) realtime.Request {
			temp := 0.9 // unique generations: no cache, no coalescing
			return realtime.Request{Kind: realtime.KindGeneration, Prompt: "write function number " + string(rune('a'+i%26)),
				MaxTokens: 60, Temperature: &temp, Caller: caller, Route: "test"}
		}
		var mu sync.Mutex
		admitted, refused := 0, 0
		one := func(i int) {
			r, err := e.Generate(ctx, req(i))
			mu.Lock()
			defer mu.Unlock()
			switch e := realtime.AsError(err); {
			case err == nil:
				admitted++
				if r.Done.Usage.CompletionTokens == 0 {
					t.Errorf("request %d produced nothing", i)
				}
			case e.Code == realtime.CodeQuotaExceeded:
				refused++
			default:
				t.Errorf("request %d: %v", i, err)
			}
		}
		if concurrent {
			var wg sync.WaitGroup
			for i := range 30 {
				wg.Add(1)
				go func() { defer wg.Done(); one(i) }()
			}
			wg.Wait()
		} else {
			for i := 0; refused == 0 && i < 50; i++ {
				one(i)
			}
		}
		charged := 0
		storetest.WaitFor(t, "the rows", func() bool {
			log.mu.Lock()
			defer log.mu.Unlock()
			charged = 0
			for _, r := range log.rows {
				charged += r.UpstreamIn + r.UpstreamOut
			}
			return len(log.rows) == admitted
		})
		minute, _ := q.usage(ctx, caller.KeyID)
		t.Logf("admitted %d, refused %d, charged %d of %d tokens", admitted, refused, charged, quota)
		if admitted == 0 || refused == 0 || charged > quota || int(minute) != charged {
			t.Fatalf("admitted %d, refused %d, charged %d tokens, window holds %d; want both outcomes, ≤ %d charged and the window = the rows",
				admitted, refused, charged, minute, quota)
		}
		if !concurrent && quota-charged >= 400 {
			t.Fatalf("refused with %d tokens left, more than one request may use", quota-charged)
		}
	}
	for _, concurrent := range []bool{false, true} {
		name := map[bool]string{false: "one after another", true: "30 at once"}[concurrent]
		t.Run(name+"/memory", func(t *testing.T) { run(t, NewQuotas(QuotaConfig{}, nil, nil), concurrent) })
		t.Run(name+"/redis", func(t *testing.T) {
			rdb, prefix := storetest.Redis(t)
			run(t, NewQuotas(QuotaConfig{Prefix: prefix + "q"}, rdb, nil), concurrent)
		})
	}
}
