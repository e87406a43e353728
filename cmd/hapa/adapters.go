package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hapa-project/hapa/admin"
	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/realtime/ws"
	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/vllm"
	"github.com/hapa-project/hapa/web"
)

// This file holds the small adapters between packages that do not import each other:
// each turns one package's concrete type into the view another declares.

// profiles adapts the user_settings table to the engine's Profiles. While the
// database's breaker is open it answers at once with an error (the engine then uses
// the default profile); a lookup waits at most a second.
type profiles struct {
	s  *store.Settings
	pg *store.Breaker // nil: SQLite
}

func (p profiles) Profile(ctx context.Context, userID int64) (realtime.Profile, error) {
	var out realtime.Profile
	if !p.pg.Allow() {
		return out, store.ErrBreakerOpen
	}
	qctx, cancel := context.WithTimeout(ctx, time.Second)
	defer cancel()
	us, err := p.s.Get(qctx, userID)
	if err != nil && !errors.Is(err, store.ErrNotFound) && ctx.Err() == nil {
		p.pg.Trip(err)
	}
	if err != nil || len(us.Profile) == 0 {
		return out, err
	}
	if err := json.Unmarshal(us.Profile, &out); err != nil {
		return realtime.Profile{}, fmt.Errorf("stored profile of user %d: %w", userID, err)
	}
	return out, nil
}

// poolStatus adapts the pool and the engine's adapter table for /code/models and
// /code/health.
func poolStatus(p *vllm.Pool, simulated bool, e *realtime.Engine) web.Upstream {
	return web.UpstreamFunc(func(ctx context.Context) web.UpstreamStatus {
		cat := e.Models()
		st := web.UpstreamStatus{Healthy: p.Healthy(), Simulator: simulated, BaseModel: cat.BaseModel, Adapters: cat.Tasks}
		ms, err := p.Models(ctx)
		st.ModelsErr = err
		for _, m := range ms {
			st.Models = append(st.Models, m.ID)
		}
		// Any valid key reads these routes: replicas are reported without their last
		// error text (internal addresses); the admin console shows it.
		for _, r := range p.Replicas() {
			st.Replicas = append(st.Replicas, web.ReplicaStatus{URL: r.URL, Healthy: r.Healthy, Circuit: string(r.Circuit),
				InFlight: r.InFlight, Requests: r.Requests, Failures: r.Failures,
				ConsecutiveFailures: r.ConsecutiveFailures, LastErrorAt: r.LastErrorAt})
		}
		return st
	})
}

// healthReport is /health's view of the dependencies.
func healthReport(st *stores, up *upstream, ret *realtime.Retention) func(ctx context.Context) web.HealthReport {
	return func(ctx context.Context) web.HealthReport {
		r := web.HealthReport{Database: "connected", Redis: "disabled", AIModel: "available", LastCleanup: ret.LastCleanup()}
		pctx, cancel := context.WithTimeout(ctx, time.Second)
		defer cancel()
		if !st.pg.Allow() || st.db.Ping(pctx) != nil {
			r.Database = "error"
		}
		if st.rdb != nil {
			r.Redis = "connected"
			// While the breaker is open, say so without waiting on a Redis that may not answer.
			if !st.breaker.Allow() || store.PingRedis(pctx, st.rdb) != nil {
				r.Redis = "error"
			}
		}
		switch {
		case up.simulated:
			r.AIModel = "simulator"
		case !up.pool.Healthy():
			r.AIModel = "unavailable"
		}
		return r
	}
}

// upstreams is the console's view of the pool.
type upstreams struct {
	*vllm.Pool
	simulated bool
}

func (u upstreams) Simulated() bool { return u.simulated }

// hubStats is the console's view of the socket hub.
type hubStats struct{ hub *ws.Hub }

func (h hubStats) Stats() admin.SocketStats {
	s := h.hub.Stats()
	return admin.SocketStats{Sessions: s.Sessions, Streams: s.Streams}
}

// configStatus is GET /api/v1/config/status: every setting, secrets redacted.
func configStatus(view []effective) map[string]any {
	settings := make(map[string]any, len(view))
	for _, e := range view {
		settings[e.Name] = map[string]string{"value": e.Value, "source": e.Source}
	}
	return map[string]any{"version": version, "settings": settings}
}
