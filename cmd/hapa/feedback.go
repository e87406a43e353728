package main

import (
	"context"
	"errors"
	"time"

	"github.com/hapa-project/hapa/store"
)

// usageTables is the retention job's view of the usage tables: the request log and the
// completion events, kept REQUEST_LOG_RETENTION_DAYS.
type usageTables struct{ db *store.DB }

func (u usageTables) DeleteOlderThan(ctx context.Context, t time.Time) (int64, error) {
	n, err1 := u.db.RequestLog().DeleteOlderThan(ctx, t)
	m, err2 := u.db.CompletionEvents().DeleteOlderThan(ctx, t)
	return n + m, errors.Join(err1, err2)
}
