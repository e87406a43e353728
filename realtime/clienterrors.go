package realtime

import (
	"context"
	"log/slog"
	"strings"
	"sync"
	"time"

	"github.com/hapa-project/hapa/store"
)

// ClientErrorStore adds per-minute client-error counts; *store.ClientErrors implements
// it.
type ClientErrorStore interface {
	Add(ctx context.Context, counts []store.ClientErrorCount) error
}

// ClientErrorConfig configures the tally. A zero field means the documented default.
type ClientErrorConfig struct {
	Disabled     bool          // ERROR_MONITORING_ENABLED=false: Count does nothing
	FlushEvery   time.Duration // default 10s
	MaxPending   int           // minute × code counts kept while the database is away; default 10000
	WriteTimeout time.Duration // per write; default 5s
}

// ClientErrorTally counts the client errors (catalogue codes E4xxx) a replica answers
// to requests that leave no request-log row — bad credentials, validation, rate limits
// and quotas refused before a stream starts — per UTC minute and code, and adds them
// to the shared client_errors table every FlushEvery, so that the error dashboard of
// every replica sees every replica's (docs/operations.md, "Operations API"). Count
// never waits on the database: counts wait in memory (bounded by MaxPending; beyond
// it new minutes are dropped with a warning) until a write succeeds.
type ClientErrorTally struct {
	cfg ClientErrorConfig
	st  ClientErrorStore
	log *slog.Logger
	now func() time.Time

	mu      sync.Mutex
	pending map[minuteCode]int64
	dropped int64
}

type minuteCode struct {
	minute int64 // unix minutes
	code   Code
}

// NewClientErrorTally builds a tally over st; log may be nil. Run must be running for
// counts to be stored.
func NewClientErrorTally(cfg ClientErrorConfig, st ClientErrorStore, log *slog.Logger) *ClientErrorTally {
	if cfg.FlushEvery <= 0 {
		cfg.FlushEvery = 10 * time.Second
	}
	if cfg.MaxPending <= 0 {
		cfg.MaxPending = 10000
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 5 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &ClientErrorTally{cfg: cfg, st: st, log: log, now: time.Now, pending: map[minuteCode]int64{}}
}

// Count counts one answer with code; codes that are not client errors of the
// catalogue are ignored.
func (t *ClientErrorTally) Count(code Code) {
	if t == nil || t.cfg.Disabled || !strings.HasPrefix(string(code), "E4") || Lookup(code).Code != code {
		return
	}
	k := minuteCode{minute: t.now().Unix() / 60, code: code}
	t.mu.Lock()
	defer t.mu.Unlock()
	if _, ok := t.pending[k]; !ok && len(t.pending) >= t.cfg.MaxPending {
		t.dropped++
		return
	}
	t.pending[k]++
}

// Run flushes every FlushEvery until ctx ends, then once more.
func (t *ClientErrorTally) Run(ctx context.Context) error {
	tick := time.NewTicker(t.cfg.FlushEvery)
	defer tick.Stop()
	for {
		select {
		case <-ctx.Done():
			_ = t.Flush(context.WithoutCancel(ctx))
			return nil
		case <-tick.C:
			_ = t.Flush(ctx)
		}
	}
}

// Flush writes the counts gathered so far. On failure they stay pending, added to
// what comes next, and are tried again on the next flush.
func (t *ClientErrorTally) Flush(ctx context.Context) error {
	t.mu.Lock()
	taken, dropped := t.pending, t.dropped
	t.pending, t.dropped = map[minuteCode]int64{}, 0
	t.mu.Unlock()
	if dropped > 0 {
		t.log.Warn("client-error counts dropped: the database has been unreachable too long", "answers", dropped)
	}
	if len(taken) == 0 {
		return nil
	}
	counts := make([]store.ClientErrorCount, 0, len(taken))
	for k, n := range taken {
		counts = append(counts, store.ClientErrorCount{Minute: time.Unix(k.minute*60, 0).UTC(), Code: string(k.code), Count: n})
	}
	ctx, cancel := context.WithTimeout(ctx, t.cfg.WriteTimeout)
	defer cancel()
	err := t.st.Add(ctx, counts)
	if err == nil {
		return nil
	}
	t.log.Warn("client-error counts not written; kept for the next try", "err", err, "minutes", len(taken))
	t.mu.Lock()
	for k, n := range taken {
		if _, ok := t.pending[k]; ok || len(t.pending) < t.cfg.MaxPending {
			t.pending[k] += n
		} else {
			t.dropped += n
		}
	}
	t.mu.Unlock()
	return err
}
