package store

import (
	"context"
	"time"
)

// UpstreamState is one row of upstream_states: what an operator asked of a vLLM
// replica ("active", "draining" or "disabled"), by whom and when.
type UpstreamState struct {
	URL       string    `db:"url"`
	State     string    `db:"state"`
	UpdatedAt time.Time `db:"updated_at"`
	UpdatedBy string    `db:"updated_by"`
}

// UpstreamStates is the accessor of the upstream_states table.
type UpstreamStates struct{ db *DB }

// UpstreamStates returns the upstream_states accessor.
func (db *DB) UpstreamStates() *UpstreamStates { return &UpstreamStates{db: db} }

// Set records the state of the replica at url.
func (s *UpstreamStates) Set(ctx context.Context, url, state, by string) error {
	q := s.db.x.Rebind(`INSERT INTO upstream_states (url, state, updated_at, updated_by) VALUES (?, ?, ?, ?)
		ON CONFLICT (url) DO UPDATE SET state = excluded.state, updated_at = excluded.updated_at, updated_by = excluded.updated_by`)
	_, err := s.db.x.ExecContext(ctx, q, url, state, s.db.nowUTC(), by)
	return wrap("set upstream state", err)
}

// All returns every recorded state, by URL.
func (s *UpstreamStates) All(ctx context.Context) (map[string]UpstreamState, error) {
	var rows []UpstreamState
	if err := s.db.x.SelectContext(ctx, &rows, `SELECT url, state, updated_at, updated_by FROM upstream_states`); err != nil {
		return nil, wrap("upstream states", err)
	}
	out := make(map[string]UpstreamState, len(rows))
	for _, r := range rows {
		out[r.URL] = r
	}
	return out, nil
}

// UpstreamStat is one replica's traffic in the request log.
type UpstreamStat struct {
	Upstream     string  `db:"upstream"`
	Requests     int     `db:"requests"`
	Errors       int     `db:"errors"`
	Cancelled    int     `db:"cancelled"`
	P50LatencyMs float64 `db:"-"`
	P99LatencyMs float64 `db:"-"`
	P50TTFTMs    float64 `db:"-"`
	P99TTFTMs    float64 `db:"-"`
}

// ByUpstream aggregates the request-log rows since a time per vLLM replica (cache hits
// have none and are left out): requests, failures, cancels, and nearest-rank p50 and
// p99 of latency and TTFT of the requests not cancelled, computed by the database.
func (s *RequestLog) ByUpstream(ctx context.Context, since time.Time) ([]UpstreamStat, error) {
	out := []UpstreamStat{}
	q := s.db.x.Rebind(`SELECT upstream, COUNT(*) AS requests,
		COALESCE(SUM(CASE WHEN ` + sqlFailed + ` THEN 1 ELSE 0 END), 0) AS errors,
		COALESCE(SUM(CASE WHEN ` + sqlCancelled + ` THEN 1 ELSE 0 END), 0) AS cancelled
		FROM request_log WHERE created_at >= ? AND upstream <> '' GROUP BY upstream ORDER BY upstream`)
	if err := s.db.x.SelectContext(ctx, &out, q, ts(since)); err != nil {
		return nil, wrap("request log by upstream", err)
	}
	for _, col := range []string{"latency_ms", "ttft_ms"} {
		var rows []struct {
			Upstream string  `db:"upstream"`
			V        float64 `db:"v"`
			Rank     int64   `db:"rn"`
			N        int64   `db:"n"`
		}
		extra := ""
		if col == "ttft_ms" {
			extra = ` AND ttft_ms > 0`
		}
		q := s.db.x.Rebind(`SELECT upstream, v, rn, n FROM (SELECT upstream, ` + col + ` AS v,
			ROW_NUMBER() OVER (PARTITION BY upstream ORDER BY ` + col + `) AS rn, COUNT(*) OVER (PARTITION BY upstream) AS n
			FROM request_log WHERE created_at >= ? AND upstream <> '' AND NOT (` + sqlCancelled + `)` + extra + `) ranked
			WHERE rn = (50 * n + 99) / 100 OR rn = (99 * n + 99) / 100`)
		if err := s.db.x.SelectContext(ctx, &rows, q, ts(since)); err != nil {
			return nil, wrap("request log by upstream", err)
		}
		for _, r := range rows {
			for i := range out {
				if out[i].Upstream != r.Upstream {
					continue
				}
				p50, p99 := &out[i].P50LatencyMs, &out[i].P99LatencyMs
				if col == "ttft_ms" {
					p50, p99 = &out[i].P50TTFTMs, &out[i].P99TTFTMs
				}
				if r.Rank == (50*r.N+99)/100 {
					*p50 = r.V
				}
				if r.Rank == (99*r.N+99)/100 {
					*p99 = r.V
				}
			}
		}
	}
	return out, nil
}
