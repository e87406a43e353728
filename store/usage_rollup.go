package store

import (
	"context"
	"database/sql"
	"fmt"
	"math"
	"strings"

	"github.com/jmoiron/sqlx"
)

// The usage rollups (migration 0009): the request log summed per UTC hour, per adapter
// and route (usage_hourly) and per key, user, adapter and route (usage_hourly_keys).
// InsertBatch adds every batch to both in its own transaction, with upserts whose
// updates are sums, so replicas writing the same hour at once never lose a count.

// HistBuckets is the number of latency (and TTFT) buckets of a rollup row: bucket 0
// below 1 ms, bucket i in [2^((i-1)/2), 2^(i/2)) ms, the last from 2^17 ms (131 s).
const HistBuckets = 36

// histBucket is the bucket of a latency in milliseconds.
func histBucket(ms float64) int {
	if !(ms >= 1) { // NaN and negatives too
		return 0
	}
	return min(int(2*math.Log2(ms))+1, HistBuckets-1)
}

// histBounds returns the lower and upper bound in ms of bucket i (+Inf for the last).
func histBounds(i int) (float64, float64) {
	lo := 0.0
	if i > 0 {
		lo = math.Pow(2, float64(i-1)/2)
	}
	if i >= HistBuckets-1 {
		return lo, math.Inf(1)
	}
	return lo, math.Pow(2, float64(i)/2)
}

// usageMeasures are the summed columns of both rollups, in order; usageReal holds the
// float ones.
var usageMeasures = []string{"requests", "errors", "client_errors", "cancelled", "cache_hits", "coalesced",
	"tokens_in", "tokens_out", "upstream_in", "upstream_out", "cache_tokens_in", "cache_tokens_out",
	"served", "latency_sum", "ttft_n", "ttft_sum", "cache_latency_sum"}

// histColumns are lat_00…lat_35 then ttft_00…ttft_35.
var histColumns = func() []string {
	var out []string
	for _, p := range []string{"lat", "ttft"} {
		for i := range HistBuckets {
			out = append(out, fmt.Sprintf("%s_%02d", p, i))
		}
	}
	return out
}()

// usageAgg is one rollup row being summed in Go.
type usageAgg struct {
	m    [17]float64 // usageMeasures
	hist [2 * HistBuckets]int64
}

func (a *usageAgg) add(r RequestLogRow) {
	failed, cancelled := r.Failed(), r.Cancelled()
	b := func(v bool) float64 {
		if v {
			return 1
		}
		return 0
	}
	client := failed && (strings.HasPrefix(r.ErrorCode, "E4") || (r.ErrorCode == "" && r.Status < 500))
	served := !r.Cached && !cancelled
	v := [17]float64{1, b(failed), b(client), b(cancelled), b(r.Cached), b(r.Coalesced),
		float64(r.TokensIn), float64(r.TokensOut), float64(r.UpstreamIn), float64(r.UpstreamOut), 0, 0, b(served), 0, 0, 0, 0}
	if r.Cached {
		v[10], v[11], v[16] = float64(r.TokensIn), float64(r.TokensOut), r.LatencyMs
	}
	if served {
		v[13] = r.LatencyMs
		a.hist[histBucket(r.LatencyMs)]++
		if r.TTFTMs > 0 {
			v[14], v[15] = 1, r.TTFTMs
			a.hist[HistBuckets+histBucket(r.TTFTMs)]++
		}
	}
	for i := range v {
		a.m[i] += v[i]
	}
}

type usageKey struct {
	hour           int64
	keyID, userID  int64
	adapter, route string
}

// usageTables are the rollups: table, key columns, whether it has the buckets.
var usageTables = []struct {
	name string
	dims []string
	hist bool
}{
	{"usage_hourly", []string{"hour", "adapter", "route"}, true},
	{"usage_hourly_keys", []string{"hour", "key_id", "user_id", "adapter", "route"}, true},
	{"usage_daily_keys", []string{"day", "key_id", "user_id"}, false},
}

// upsertSQL is the one-row upsert of a rollup: the measures are added to the row's.
func upsertSQL(table string, dims []string, hist bool) string {
	measures := usageMeasures
	if hist {
		measures = append(append([]string{}, usageMeasures...), histColumns...)
	}
	cols := append(append([]string{}, dims...), measures...)
	set := make([]string, len(measures))
	for i, c := range measures {
		set[i] = c + " = " + table + "." + c + " + excluded." + c
	}
	return "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES (" + strings.Repeat("?, ", len(cols)-1) +
		"?) ON CONFLICT (" + strings.Join(dims, ", ") + ") DO UPDATE SET " + strings.Join(set, ", ")
}

// usageUpserts returns the DB's prepared upserts, in usageTables order (none on
// PostgreSQL, where they go as text like the request log's batches). Like the full
// INSERT, they are prepared outside the batch's transaction: on a one-connection pool
// the transaction holds the only connection.
func (s *RequestLog) usageUpserts(ctx context.Context) ([]*sql.Stmt, error) {
	if s.db.dialect == Postgres {
		return nil, nil // sent as text: nothing prepared across transactions (PgBouncer, see InsertBatch)
	}
	s.db.logMu.Lock()
	defer s.db.logMu.Unlock()
	if s.db.usageStmts == nil {
		var out []*sql.Stmt
		for _, t := range usageTables {
			st, err := s.db.x.PrepareContext(ctx, s.db.x.Rebind(upsertSQL(t.name, t.dims, t.hist)))
			if err != nil {
				for _, o := range out {
					_ = o.Close()
				}
				return nil, err
			}
			out = append(out, st)
		}
		s.db.usageStmts = out
	}
	return s.db.usageStmts, nil
}

// rollup adds rows (in the hour at gives) to the three rollups inside tx, one
// prepared upsert per rollup row touched (a second of traffic touches a few dozen).
func (s *RequestLog) rollup(ctx context.Context, tx *sqlx.Tx, stmts []*sql.Stmt, rows []RequestLogRow, at func(RequestLogRow) int64) error {
	aggs := make([]map[usageKey]*usageAgg, len(usageTables))
	order := make([][]usageKey, len(usageTables)) // deterministic statement order: fewer lock conflicts
	for i := range aggs {
		aggs[i] = map[usageKey]*usageAgg{}
	}
	add := func(i int, k usageKey, r RequestLogRow) {
		a := aggs[i][k]
		if a == nil {
			a = &usageAgg{}
			aggs[i][k] = a
			order[i] = append(order[i], k)
		}
		a.add(r)
	}
	for _, r := range rows {
		hour := at(r)
		k := usageKey{hour: hour, adapter: r.Adapter, route: r.Route}
		add(0, k, r)
		if r.KeyID != nil {
			k.keyID = *r.KeyID
		}
		if r.UserID != nil {
			k.userID = *r.UserID
		}
		add(1, k, r)
		add(2, usageKey{hour: floorDiv(hour, 24), keyID: k.keyID, userID: k.userID}, r)
	}
	args := make([]any, 0, 5+len(usageMeasures)+len(histColumns))
	for i, t := range usageTables {
		exec := func(args ...any) (sql.Result, error) {
			return tx.ExecContext(ctx, tx.Rebind(upsertSQL(t.name, t.dims, t.hist)), args...)
		}
		if stmts != nil {
			exec = func(args ...any) (sql.Result, error) { return tx.StmtContext(ctx, stmts[i]).ExecContext(ctx, args...) }
		}
		for _, k := range order[i] {
			args = args[:0]
			for _, d := range t.dims {
				switch d {
				case "hour", "day":
					args = append(args, k.hour)
				case "key_id":
					args = append(args, k.keyID)
				case "user_id":
					args = append(args, k.userID)
				case "adapter":
					args = append(args, k.adapter)
				case "route":
					args = append(args, k.route)
				}
			}
			a := aggs[i][k]
			for j, v := range a.m {
				switch usageMeasures[j] {
				case "latency_sum", "ttft_sum", "cache_latency_sum":
					args = append(args, v)
				default:
					args = append(args, int64(v))
				}
			}
			if t.hist {
				for _, h := range a.hist {
					args = append(args, h)
				}
			}
			if _, err := exec(args...); err != nil {
				return fmt.Errorf("%s: %w", t.name, err)
			}
		}
	}
	return nil
}

// floorDiv is a/b rounded down (hours before 1970 stay in their day).
func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}
