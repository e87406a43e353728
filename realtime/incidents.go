package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"log/slog"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hapa-project/hapa/store"
)

// IncidentStore stores incidents; *store.Incidents implements it.
type IncidentStore interface {
	Insert(ctx context.Context, in store.Incident) (store.Incident, error)
}

// IncidentObserver counts recorded incidents for metrics; *Metrics implements it.
type IncidentObserver interface {
	Incident(code Code)
}

// IncidentConfig configures the recorder. A zero field means the documented default.
type IncidentConfig struct {
	Disabled     bool          // INCIDENT_TRACKING_ENABLED=false: Record returns "" and stores nothing
	Queue        int           // incidents waiting to be written; default 1024
	WriteTimeout time.Duration // per insert; default 2s
	DrainTimeout time.Duration // how long Run writes the queue after ctx ends; default 2s
}

// IncidentRecorder gives every server error an incident id (INC-YYYYMMDD-XXXXXXXX: UTC
// date, 8 upper-case hex characters from crypto/rand) and stores it through a bounded
// queue, so Record never waits on the database. When the queue is full the incident
// is logged (id, code, path, detail) but not stored; Dropped counts those.
// It implements the engine's Incidents and web's IncidentRecorder.
type IncidentRecorder struct {
	cfg   IncidentConfig
	st    IncidentStore
	obs   IncidentObserver
	log   *slog.Logger
	now   func() time.Time
	queue chan store.Incident

	written, dropped, failed atomic.Int64
}

// NewIncidentRecorder builds a recorder over st; obs and log may be nil. Run must be
// running for incidents to be stored.
func NewIncidentRecorder(cfg IncidentConfig, st IncidentStore, obs IncidentObserver, log *slog.Logger) *IncidentRecorder {
	if cfg.Queue <= 0 {
		cfg.Queue = 1024
	}
	if cfg.WriteTimeout <= 0 {
		cfg.WriteTimeout = 2 * time.Second
	}
	if cfg.DrainTimeout <= 0 {
		cfg.DrainTimeout = 2 * time.Second
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &IncidentRecorder{cfg: cfg, st: st, obs: obs, log: log, now: time.Now, queue: make(chan store.Incident, cfg.Queue)}
}

// NewIncidentIDAt returns a fresh incident id for time t.
func NewIncidentIDAt(t time.Time) string {
	var b [4]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	return "INC-" + t.UTC().Format("20060102") + "-" + strings.ToUpper(hex.EncodeToString(b[:]))
}

// Record queues an incident for e and returns its id at once ("" when tracking is
// disabled or e is nil). The message stored is the client-facing one; the detail is
// internal (never sent to clients).
func (r *IncidentRecorder) Record(ctx context.Context, e *Error, path, requestID string) string {
	if r == nil || r.cfg.Disabled || e == nil {
		return ""
	}
	now := r.now().UTC()
	in := store.Incident{ID: NewIncidentIDAt(now), Code: string(e.Code), CreatedAt: now, Path: path,
		RequestID: requestID, Message: e.Message, Detail: e.Detail, Status: store.IncidentOpen, HTTPStatus: e.Status()}
	if in.Message == "" {
		in.Message = Lookup(e.Code).Message
	}
	if r.obs != nil {
		r.obs.Incident(e.Code)
	}
	select {
	case r.queue <- in:
	default:
		r.dropped.Add(1)
		r.log.ErrorContext(ctx, "incident queue full; incident not stored",
			slog.String("incident_id", in.ID), slog.String("code", in.Code), slog.String("path", path),
			slog.String("request_id", requestID), slog.String("detail", in.Detail))
	}
	return in.ID
}

// Run stores queued incidents until ctx ends, then writes what is left for at most
// DrainTimeout.
func (r *IncidentRecorder) Run(ctx context.Context) error {
	for {
		select {
		case in := <-r.queue:
			r.write(ctx, in)
		case <-ctx.Done():
			drain, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.DrainTimeout)
			defer cancel()
			for {
				select {
				case in := <-r.queue:
					r.write(drain, in)
				default:
					return nil
				}
				if drain.Err() != nil {
					return nil
				}
			}
		}
	}
}

func (r *IncidentRecorder) write(ctx context.Context, in store.Incident) {
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.WriteTimeout)
	defer cancel()
	if _, err := r.st.Insert(wctx, in); err != nil {
		r.failed.Add(1)
		r.log.Error("incident not stored", slog.String("incident_id", in.ID), slog.String("code", in.Code),
			slog.String("path", in.Path), slog.String("detail", in.Detail), slog.String("error", err.Error()))
		return
	}
	r.written.Add(1)
}

// IncidentStats counts the recorder's work.
type IncidentStats struct {
	Queued, Written, Dropped, Failed int64
}

// Stats returns a snapshot of the counters.
func (r *IncidentRecorder) Stats() IncidentStats {
	return IncidentStats{Queued: int64(len(r.queue)), Written: r.written.Load(), Dropped: r.dropped.Load(), Failed: r.failed.Load()}
}
