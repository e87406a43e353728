package main

import (
	"context"
	"errors"
	"time"

	"github.com/hapa-project/hapa/store"
)

// errorTables is the retention job's view of the error tables: incidents, the
// per-minute client-error counts and the console's audit log all go after
// ERROR_RETENTION_DAYS.
type errorTables struct{ db *store.DB }

func (e errorTables) DeleteOlderThan(ctx context.Context, t time.Time) (int64, error) {
	n, err1 := e.db.Incidents().DeleteOlderThan(ctx, t)
	m, err2 := e.db.ClientErrors().DeleteOlderThan(ctx, t)
	a, err3 := e.db.AuditLog().DeleteOlderThan(ctx, t)
	return n + m + a, errors.Join(err1, err2, err3)
}
