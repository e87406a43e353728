package realtime

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"
)

// Pruner deletes rows older than a time; *store.Incidents and *store.RequestLog
// implement it.
type Pruner interface {
	DeleteOlderThan(ctx context.Context, t time.Time) (int64, error)
}

// RetentionConfig configures the cleanup job. A zero field means the documented default.
type RetentionConfig struct {
	IncidentDays   int           // ERROR_RETENTION_DAYS; default 30
	RequestLogDays int           // REQUEST_LOG_RETENTION_DAYS; default 30
	Every          time.Duration // default 1h
	Timeout        time.Duration // per run; default 1m
}

// Retention deletes incidents and request-log rows past their retention, at start and
// then every hour. LastCleanup (for /health's last_cleanup) is the end of the last run
// that succeeded.
type Retention struct {
	cfg       RetentionConfig
	incidents Pruner
	logs      Pruner
	log       *slog.Logger
	now       func() time.Time
	last      atomic.Int64 // unix nanos; 0: never
}

// NewRetention builds the job; either pruner may be nil (nothing to delete there).
func NewRetention(cfg RetentionConfig, incidents, requestLog Pruner, log *slog.Logger) *Retention {
	if cfg.IncidentDays <= 0 {
		cfg.IncidentDays = 30
	}
	if cfg.RequestLogDays <= 0 {
		cfg.RequestLogDays = 30
	}
	if cfg.Every <= 0 {
		cfg.Every = time.Hour
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = time.Minute
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Retention{cfg: cfg, incidents: incidents, logs: requestLog, log: log, now: time.Now}
}

// Run cleans up at once and then every Every until ctx ends.
func (r *Retention) Run(ctx context.Context) error {
	t := time.NewTicker(r.cfg.Every)
	defer t.Stop()
	for {
		_ = r.Clean(ctx)
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

// Clean runs one cleanup and returns the first error (both tables are tried).
func (r *Retention) Clean(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, r.cfg.Timeout)
	defer cancel()
	now := r.now()
	var first error
	for _, p := range []struct {
		name string
		p    Pruner
		days int
	}{{"incidents", r.incidents, r.cfg.IncidentDays}, {"request_log", r.logs, r.cfg.RequestLogDays}} {
		if p.p == nil {
			continue
		}
		n, err := p.p.DeleteOlderThan(ctx, now.Add(-time.Duration(p.days)*24*time.Hour))
		if err != nil {
			r.log.Warn("retention cleanup failed", slog.String("table", p.name), slog.String("error", err.Error()))
			if first == nil {
				first = err
			}
			continue
		}
		if n > 0 {
			r.log.Info("retention cleanup", slog.String("table", p.name), slog.Int64("deleted", n), slog.Int("days", p.days))
		}
	}
	if first == nil {
		r.last.Store(r.now().UnixNano())
	}
	return first
}

// LastCleanup is when the last successful cleanup ended; zero before the first.
func (r *Retention) LastCleanup() time.Time {
	if n := r.last.Load(); n != 0 {
		return time.Unix(0, n).UTC()
	}
	return time.Time{}
}
