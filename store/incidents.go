package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strings"
	"time"
)

// Incident states.
const (
	IncidentOpen     = "open"
	IncidentResolved = "resolved"
)

// Incident is one row of incidents: a server error given an id the client
// can quote to support.
type Incident struct {
	ID         string    `db:"id" json:"incident_id"`
	Code       string    `db:"code" json:"error_code"`
	CreatedAt  time.Time `db:"created_at" json:"timestamp"`
	Path       string    `db:"path" json:"path"`
	RequestID  string    `db:"request_id" json:"request_id"`
	Message    string    `db:"message" json:"message"`
	Detail     string    `db:"detail" json:"detail"`
	Status     string    `db:"status" json:"status"`
	HTTPStatus int       `db:"http_status" json:"http_status"`
}

// NewIncidentID returns "INC-YYYYMMDD-XXXXXXXX": the UTC date of t and eight random
// upper-case hex characters (docs/api.md, "Error catalogue"; the original used lower case).
func NewIncidentID(t time.Time) string {
	var b [4]byte
	rand.Read(b[:])
	return "INC-" + t.UTC().Format("20060102") + "-" + strings.ToUpper(hex.EncodeToString(b[:]))
}

// Incidents is the accessor of the incidents table.
type Incidents struct{ db *DB }

// Incidents returns the incidents accessor.
func (db *DB) Incidents() *Incidents { return &Incidents{db: db} }

const incidentColumns = `id, code, created_at, path, request_id, message, detail, status, http_status`

// Insert stores in, filling an empty ID (retried on the rare collision),
// CreatedAt (now) and Status (open), and returns it as stored.
func (s *Incidents) Insert(ctx context.Context, in Incident) (Incident, error) {
	if in.CreatedAt.IsZero() {
		in.CreatedAt = s.db.now()
	}
	in.CreatedAt = ts(in.CreatedAt)
	if in.Status == "" {
		in.Status = IncidentOpen
	}
	generated := in.ID == ""
	q := s.db.x.Rebind(`INSERT INTO incidents (` + incidentColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	var err error
	for range idAttempts {
		if generated {
			in.ID = NewIncidentID(in.CreatedAt)
		}
		_, err = s.db.x.ExecContext(ctx, q, in.ID, in.Code, in.CreatedAt, in.Path, in.RequestID, in.Message,
			in.Detail, in.Status, in.HTTPStatus)
		if !generated || !isUniqueViolation(err) {
			break // a caller-chosen id that collides is the caller's conflict
		}
	}
	return in, wrap("insert incident", err)
}

// Get returns the incident with id, or ErrNotFound.
func (s *Incidents) Get(ctx context.Context, id string) (Incident, error) {
	var in Incident
	q := s.db.x.Rebind(`SELECT ` + incidentColumns + ` FROM incidents WHERE id = ?`)
	return in, wrap("get incident", s.db.x.GetContext(ctx, &in, q, id))
}

// Recent returns the newest incidents, at most limit (≤ 0: 50).
func (s *Incidents) Recent(ctx context.Context, limit int) ([]Incident, error) {
	if limit <= 0 {
		limit = 50
	}
	out := []Incident{}
	q := s.db.x.Rebind(`SELECT ` + incidentColumns + ` FROM incidents ORDER BY created_at DESC, id DESC LIMIT ?`)
	return out, wrap("recent incidents", s.db.x.SelectContext(ctx, &out, q, limit))
}

// SetStatus marks an incident open or resolved.
func (s *Incidents) SetStatus(ctx context.Context, id, status string) error {
	if status != IncidentOpen && status != IncidentResolved {
		return fmt.Errorf("store: set incident status: unknown status %q", status)
	}
	res, err := s.db.x.ExecContext(ctx, s.db.x.Rebind(`UPDATE incidents SET status = ? WHERE id = ?`), status, id)
	if err == nil {
		err = affected(res)
	}
	return wrap("set incident status", err)
}

// Resolve marks an incident resolved (the outage it records has ended); ErrNotFound
// when no incident has id.
func (s *Incidents) Resolve(ctx context.Context, id string) error {
	return s.SetStatus(ctx, id, IncidentResolved)
}

// Total counts all incidents.
func (s *Incidents) Total(ctx context.Context) (int, error) {
	var n int
	return n, wrap("count incidents", s.db.x.GetContext(ctx, &n, `SELECT COUNT(*) FROM incidents`))
}

// DeleteOlderThan removes incidents created before t (ERROR_RETENTION_DAYS)
// and returns how many.
func (s *Incidents) DeleteOlderThan(ctx context.Context, t time.Time) (int64, error) {
	res, err := s.db.x.ExecContext(ctx, s.db.x.Rebind(`DELETE FROM incidents WHERE created_at < ?`), ts(t))
	if err != nil {
		return 0, wrap("prune incidents", err)
	}
	n, err := res.RowsAffected()
	return n, wrap("prune incidents", err)
}
