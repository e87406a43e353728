package store

import (
	"context"
	"fmt"
	"time"
)

// CountByCode returns the number of incidents per code since a time.
func (s *Incidents) CountByCode(ctx context.Context, since time.Time) (map[string]int, error) {
	var rows []struct {
		Code string `db:"code"`
		N    int    `db:"n"`
	}
	q := s.db.x.Rebind(`SELECT code, COUNT(*) AS n FROM incidents WHERE created_at >= ? GROUP BY code`)
	if err := s.db.x.SelectContext(ctx, &rows, q, ts(since)); err != nil {
		return nil, wrap("count incidents by code", err)
	}
	out := make(map[string]int, len(rows))
	for _, r := range rows {
		out[r.Code] = r.N
	}
	return out, nil
}

// Buckets counts incidents per code in consecutive buckets of width d from
// since to now: element i covers [since+i·d, since+(i+1)·d). Every code gets
// the same number of buckets (at least one).
func (s *Incidents) Buckets(ctx context.Context, since time.Time, d time.Duration) (map[string][]int, error) {
	if d <= 0 {
		return nil, fmt.Errorf("store: incident buckets: width must be positive")
	}
	since = ts(since)
	n := max(int((s.db.now().Sub(since)+d-1)/d), 1)
	var rows []struct {
		Code      string    `db:"code"`
		CreatedAt time.Time `db:"created_at"`
	}
	q := s.db.x.Rebind(`SELECT code, created_at FROM incidents WHERE created_at >= ?`)
	if err := s.db.x.SelectContext(ctx, &rows, q, since); err != nil {
		return nil, wrap("incident buckets", err)
	}
	out := map[string][]int{}
	for _, r := range rows {
		b := out[r.Code]
		if b == nil {
			b = make([]int, n)
			out[r.Code] = b
		}
		if i := int(r.CreatedAt.Sub(since) / d); i >= 0 && i < n {
			b[i]++
		}
	}
	return out, nil
}

// CodeSpan is when a code was first and last seen, and how often.
type CodeSpan struct {
	First time.Time `json:"first_seen"`
	Last  time.Time `json:"last_seen"`
	Count int       `json:"count"`
}

// FirstLast returns, per code, the first and last incident time and count.
func (s *Incidents) FirstLast(ctx context.Context) (map[string]CodeSpan, error) {
	var rows []struct {
		Code  string  `db:"code"`
		First sqlTime `db:"first"`
		Last  sqlTime `db:"last"`
		N     int     `db:"n"`
	}
	q := `SELECT code, MIN(created_at) AS first, MAX(created_at) AS last, COUNT(*) AS n FROM incidents GROUP BY code`
	if err := s.db.x.SelectContext(ctx, &rows, q); err != nil {
		return nil, wrap("incident first/last", err)
	}
	out := make(map[string]CodeSpan, len(rows))
	for _, r := range rows {
		out[r.Code] = CodeSpan{First: r.First.T, Last: r.Last.T, Count: r.N}
	}
	return out, nil
}
