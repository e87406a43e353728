package admin

import (
	"context"
	"time"
)

// UsageFilter selects request-log rows: [Since, Until) (a zero Until: no end),
// optionally of one user or key.
type UsageFilter struct {
	Since  time.Time
	Until  time.Time
	UserID int64 // 0 = every user
	KeyID  int64 // 0 = every key
}

// UsageSummary aggregates the request-log rows of a filter. Latencies are
// milliseconds and describe the requests vLLM served — cache hits (CacheLatency, their
// mean) and cancels apart; percentiles are 0 when there are no such rows.
type UsageSummary struct {
	Requests     int64
	Errors       int64 // failed rows: an error status or code, not a cancel
	Cancelled    int64 // rows of requests the client left (status 499): not errors
	Cached       int64
	TokensIn     int64
	TokensOut    int64
	LatencyP50   float64
	LatencyP99   float64
	TTFTP50      float64
	TTFTP99      float64
	CacheLatency float64
}

// Bucket counts events in one time step starting at Start: requests (and how many
// of them failed) for Usage, incidents for Incidents.
type Bucket struct {
	Start  time.Time
	Count  int64
	Errors int64
}

// Usage answers the request-log questions of the overview and user pages. The lead
// adapts store's request log to it.
type Usage interface {
	Summary(ctx context.Context, f UsageFilter) (UsageSummary, error)
	// Series returns one bucket per step from since to now, oldest first, including
	// empty buckets.
	Series(ctx context.Context, since time.Time, step time.Duration) ([]Bucket, error)
}

// Incident is one recorded server error and where it is in the workflow.
type Incident struct {
	ID             string
	Code           string
	CreatedAt      time.Time
	Path           string
	RequestID      string
	Message        string
	Detail         string
	Status         string // open | acknowledged | resolved
	HTTPStatus     int
	AcknowledgedAt *time.Time
	AcknowledgedBy string
	ResolvedAt     *time.Time
	ResolvedBy     string
	Notes          []IncidentNote // ByID only, oldest first
}

// IncidentNote is one workflow step (acknowledge, resolve, reopen) or note.
type IncidentNote struct {
	At     time.Time
	Actor  string
	Action string
	Note   string
}

// IncidentStates are the choices of the incident list's state filter ("" = all).
var IncidentStates = []string{"", "open", "acknowledged", "resolved"}

// CodeCount is how often one error code occurred in a period, with its first and last
// time there.
type CodeCount struct {
	Code        string
	Description string
	Count       int64
	FirstSeen   time.Time
	LastSeen    time.Time
}

// ErrorCounts are the errors of a period: the codes of one class (ErrorClasses) from
// every place errors are kept, most frequent first, and the cancels apart.
type ErrorCounts struct {
	Codes     []CodeCount
	Cancelled int64 // requests the client left (status 499): not errors
	Requests  int64 // request-log rows of the period
}

// ErrorClasses are the choices of the errors page's class filter.
var ErrorClasses = []string{"all", "4xx", "5xx"}

// Incidents answers the errors page. ByID returns an error matching store.ErrNotFound
// for an unknown id.
type Incidents interface {
	// Recent returns the newest incidents of a state ("" = any, or an IncidentStates
	// value).
	Recent(ctx context.Context, state string, limit int) ([]Incident, error)
	ByID(ctx context.Context, id string) (Incident, error)
	// Errors counts the errors of a class ("all", "4xx" or "5xx") since the given
	// time: failed requests, incidents and client errors (realtime.ReportErrors).
	Errors(ctx context.Context, since time.Time, class string) (ErrorCounts, error)
	// Series counts incidents per step since the given time, oldest first.
	Series(ctx context.Context, since time.Time, step time.Duration) ([]Bucket, error)
}
