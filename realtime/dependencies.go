package realtime

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/hapa-project/hapa/store"
)

// DependencyObserver sets hapa_dependency_up; *Metrics implements it.
type DependencyObserver interface {
	DependencyUp(name string, up bool)
}

// IncidentResolver marks a stored incident resolved; *store.Incidents implements it.
type IncidentResolver interface {
	Resolve(ctx context.Context, id string) error
}

// OutageDeps are the collaborators of Outages; all may be nil.
type OutageDeps struct {
	Observer  DependencyObserver // the gauge
	Incidents Incidents          // records one incident per outage (the IncidentRecorder)
	Resolver  IncidentResolver   // marks it resolved when the outage ends
	Logger    *slog.Logger
}

// Outages turns the up/down changes of a dependency's breaker (store.Breaker) into
// what operators see (docs/operations.md, "Failure modes"): hapa_dependency_up, one
// WARN line when it goes down and one INFO line with the outage's length when it is
// back, and one incident per outage — recorded when the dependency goes down, marked
// resolved once it has stayed back for settleFor. Run resolves them: the incident is written by the
// recorder's queue, so its row may not exist yet when a short outage ends.
type Outages struct {
	deps OutageDeps
	log  *slog.Logger
	now  func() time.Time

	mu      sync.Mutex
	current map[string]outage // dependency → its outage in progress
	pending []resolution      // incidents to mark resolved
	kick    chan struct{}
}

type outage struct {
	since    time.Time
	incident string
}

type resolution struct {
	id    string
	name  string    // the dependency
	since time.Time // when the outage ended
}

// settleFor is how long a dependency must stay up before its outage's incident is
// marked resolved. Going down again within it continues the same outage — the same
// incident, no second row — so a breaker that closes and trips again while a Redis
// Cluster is still moving its slots (docs/operations.md, "Redis Sentinel and
// Cluster") shows as one outage, not two.
const settleFor = 2 * time.Second

// resolveFor is how long Run tries to mark an incident resolved (its row not written
// yet, the database unavailable) before it gives up with a warning.
const resolveFor = 10 * time.Minute

// NewOutages builds the tracker; Run must be running for incidents to be resolved.
func NewOutages(deps OutageDeps) *Outages {
	log := deps.Logger
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Outages{deps: deps, log: log, now: time.Now, current: map[string]outage{}, kick: make(chan struct{}, 1)}
}

// Watch sets the dependency's gauge to 1 and returns the function its breaker calls on
// each change (store.Breaker.Watch); code is the catalogue code of its incidents
// (E5002 for Redis). name is a fixed word of the wiring ("redis").
func (o *Outages) Watch(name string, code Code) func(up bool, err error) {
	if o.deps.Observer != nil {
		o.deps.Observer.DependencyUp(name, true)
	}
	return func(up bool, err error) {
		if up {
			o.up(name)
		} else {
			o.down(name, code, err)
		}
	}
}

func (o *Outages) down(name string, code Code, err error) {
	o.mu.Lock()
	if _, ok := o.current[name]; ok {
		o.mu.Unlock()
		return
	}
	if r, ok := o.relapse(name); ok {
		o.current[name] = outage{since: o.now(), incident: r.id}
		o.mu.Unlock()
		if o.deps.Observer != nil {
			o.deps.Observer.DependencyUp(name, false)
		}
		o.log.Warn("dependency down again: the same outage", slog.String("dependency", name),
			slog.String("error", fmt.Sprint(err)), slog.Duration("up_for", o.now().Sub(r.since)), slog.String("incident_id", r.id))
		return
	}
	o.current[name] = outage{since: o.now()}
	o.mu.Unlock()
	if o.deps.Observer != nil {
		o.deps.Observer.DependencyUp(name, false)
	}
	if err == nil {
		err = errors.New(name + " unavailable")
	}
	e := Wrap(code, err)
	e.Detail = name + " unavailable: " + err.Error()
	id := ""
	if o.deps.Incidents != nil {
		ctx, cancel := context.WithTimeout(context.Background(), incidentTimeout)
		id = o.deps.Incidents.Record(ctx, e, "dependency:"+name, "")
		cancel()
	}
	o.mu.Lock()
	if cur, ok := o.current[name]; ok {
		cur.incident = id
		o.current[name] = cur
	}
	o.mu.Unlock()
	o.log.Warn("dependency down: serving without it", slog.String("dependency", name),
		slog.String("error", err.Error()), slog.String("code", string(code)), slog.String("incident_id", id))
}

// relapse takes name's resolution out of the pending ones when the dependency came
// back less than settleFor ago. o.mu is held.
func (o *Outages) relapse(name string) (resolution, bool) {
	for i, r := range o.pending {
		if r.name == name && o.now().Sub(r.since) < settleFor {
			o.pending = append(o.pending[:i:i], o.pending[i+1:]...)
			return r, true
		}
	}
	return resolution{}, false
}

func (o *Outages) up(name string) {
	o.mu.Lock()
	cur, ok := o.current[name]
	delete(o.current, name)
	if ok && cur.incident != "" && o.deps.Resolver != nil {
		o.pending = append(o.pending, resolution{id: cur.incident, name: name, since: o.now()})
	}
	o.mu.Unlock()
	if !ok {
		return
	}
	if o.deps.Observer != nil {
		o.deps.Observer.DependencyUp(name, true)
	}
	select {
	case o.kick <- struct{}{}:
	default:
	}
	o.log.Info("dependency back", slog.String("dependency", name),
		slog.Duration("down_for", o.now().Sub(cur.since)), slog.String("incident_id", cur.incident))
}

// Run marks the incidents of ended outages resolved until ctx ends, retrying every
// 250 ms while a row is not written yet or the database fails.
func (o *Outages) Run(ctx context.Context) error {
	t := time.NewTicker(250 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-o.kick:
		case <-t.C:
		}
		o.resolvePending(ctx)
	}
}

func (o *Outages) resolvePending(ctx context.Context) {
	o.mu.Lock()
	var todo, settling []resolution
	for _, r := range o.pending {
		if o.now().Sub(r.since) < settleFor {
			settling = append(settling, r) // may still relapse
		} else {
			todo = append(todo, r)
		}
	}
	o.pending = settling
	o.mu.Unlock()
	var retry []resolution
	for _, r := range todo {
		rctx, cancel := context.WithTimeout(ctx, incidentTimeout)
		err := o.deps.Resolver.Resolve(rctx, r.id)
		cancel()
		switch {
		case err == nil:
		case ctx.Err() != nil:
			return
		case o.now().Sub(r.since) > resolveFor:
			o.log.Warn("incident not marked resolved", slog.String("incident_id", r.id), slog.String("error", err.Error()))
		default:
			if !errors.Is(err, store.ErrNotFound) {
				o.log.Debug("incident not resolved yet, retrying", slog.String("incident_id", r.id), slog.String("error", err.Error()))
			}
			retry = append(retry, r)
		}
	}
	if len(retry) > 0 {
		o.mu.Lock()
		o.pending = append(retry, o.pending...)
		o.mu.Unlock()
	}
}
