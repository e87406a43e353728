package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
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

// IncidentDeps are the recorder's collaborators; Store is required.
type IncidentDeps struct {
	Store    IncidentStore
	Spool    Spool // incidents the database could not take wait here (nil: logged, not stored)
	Observer IncidentObserver
	Logger   *slog.Logger
}

// IncidentRecorder gives every server error an incident id (INC-YYYYMMDD-XXXXXXXX: UTC
// date, 8 upper-case hex characters from crypto/rand) and stores it through a bounded
// queue, so Record never waits on the database. While the database fails, incidents
// go to the spool without waiting on it (one try per retry interval), and are written
// once it answers again (docs/operations.md, "Failure modes"). When the queue is full
// the incident is logged (id, code, path, detail) but not stored; Dropped counts
// those. It implements the engine's Incidents and web's IncidentRecorder.
type IncidentRecorder struct {
	cfg   IncidentConfig
	st    IncidentStore
	spool Spool
	obs   IncidentObserver
	log   *slog.Logger
	now   func() time.Time
	queue chan store.Incident

	downUntil time.Time // Run's goroutine only: spool without trying the database until then
	backoff   time.Duration

	written, dropped, failed, spooled atomic.Int64
}

// NewIncidentRecorder builds a recorder; Run must be running for incidents to be stored.
func NewIncidentRecorder(cfg IncidentConfig, deps IncidentDeps) *IncidentRecorder {
	st, obs, log := deps.Store, deps.Observer, deps.Logger
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
	return &IncidentRecorder{cfg: cfg, st: st, spool: deps.Spool, obs: obs, log: log, now: time.Now,
		queue: make(chan store.Incident, cfg.Queue)}
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
// DrainTimeout. Every spoolEvery it writes back what the spool holds.
func (r *IncidentRecorder) Run(ctx context.Context) error {
	tick := time.NewTicker(spoolEvery)
	defer tick.Stop()
	r.replay(ctx) // what a previous run could not store
	for {
		select {
		case in := <-r.queue:
			r.write(ctx, in)
		case <-tick.C:
			r.replay(ctx)
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

// spoolEvery is how often Run tries to write spooled incidents back.
const spoolEvery = 5 * time.Second

func (r *IncidentRecorder) write(ctx context.Context, in store.Incident) {
	if r.spool != nil && r.now().Before(r.downUntil) {
		r.toSpool(in, nil) // the database failed a moment ago: do not wait on it again
		return
	}
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.WriteTimeout)
	defer cancel()
	if _, err := r.st.Insert(wctx, in); err != nil {
		r.backoff = min(max(2*r.backoff, time.Second), 30*time.Second)
		r.downUntil = r.now().Add(r.backoff)
		r.toSpool(in, err)
		return
	}
	r.backoff = 0
	r.written.Add(1)
}

// toSpool keeps an incident the database did not take; without a spool (or with a
// full one) it is logged and counted as failed.
func (r *IncidentRecorder) toSpool(in store.Incident, cause error) {
	if r.spool != nil {
		if b, err := json.Marshal(in); err == nil && r.spool.Append(b) == nil {
			r.spooled.Add(1)
			return
		}
	}
	r.failed.Add(1)
	msg := "incident not stored"
	if cause != nil {
		msg += ": " + cause.Error()
	}
	r.log.Error(msg, slog.String("incident_id", in.ID), slog.String("code", in.Code),
		slog.String("path", in.Path), slog.String("detail", in.Detail))
}

// replay writes the spooled incidents back (one insert each: there are few).
func (r *IncidentRecorder) replay(ctx context.Context) {
	if r.spool == nil || r.now().Before(r.downUntil) {
		return
	}
	if n, _ := r.spool.Len(); n == 0 {
		return
	}
	n, err := r.spool.Replay(ctx, 64, func(batch [][]byte) error {
		for _, b := range batch {
			var in store.Incident
			if json.Unmarshal(b, &in) != nil {
				continue
			}
			wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), r.cfg.WriteTimeout)
			_, err := r.st.Insert(wctx, in)
			cancel()
			if err != nil && !errors.Is(err, store.ErrConflict) { // ErrConflict: stored before a crash
				return err
			}
		}
		return nil
	})
	r.written.Add(int64(n))
	if err != nil {
		r.backoff = min(max(2*r.backoff, time.Second), 30*time.Second)
		r.downUntil = r.now().Add(r.backoff)
	}
}

// IncidentStats counts the recorder's work.
type IncidentStats struct {
	Queued, Written, Dropped, Failed, Spooled int64
}

// Stats returns a snapshot of the counters.
func (r *IncidentRecorder) Stats() IncidentStats {
	return IncidentStats{Queued: int64(len(r.queue)), Written: r.written.Load(), Dropped: r.dropped.Load(),
		Failed: r.failed.Load(), Spooled: r.spooled.Load()}
}
