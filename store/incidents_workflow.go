package store

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// Incident workflow actions (Incidents.Transition). The states are open, acknowledged
// (open with acknowledged_at set) and resolved; IncidentNote only adds a note.
const (
	IncidentAcknowledge = "acknowledge"
	IncidentResolve     = "resolve"
	IncidentReopen      = "reopen"
	IncidentNote        = "note"
)

// Incident states as the console shows them.
const (
	StateOpen         = "open"
	StateAcknowledged = "acknowledged"
	StateResolved     = "resolved"
)

// IncidentWork is an incident with its workflow: who acknowledged and resolved it and
// when, and its notes (oldest first).
type IncidentWork struct {
	Incident
	AcknowledgedAt *time.Time `db:"acknowledged_at"`
	AcknowledgedBy string     `db:"acknowledged_by"`
	ResolvedAt     *time.Time `db:"resolved_at"`
	ResolvedBy     string     `db:"resolved_by"`
	Notes          []IncidentNoteRow
}

// State is open, acknowledged or resolved.
func (w IncidentWork) State() string {
	switch {
	case w.Status == IncidentResolved:
		return StateResolved
	case w.AcknowledgedAt != nil:
		return StateAcknowledged
	}
	return StateOpen
}

// IncidentNoteRow is one workflow step or note of an incident.
type IncidentNoteRow struct {
	ID         int64     `db:"id"`
	IncidentID string    `db:"incident_id"`
	CreatedAt  time.Time `db:"created_at"`
	Actor      string    `db:"actor"`
	Action     string    `db:"action"`
	Note       string    `db:"note"`
}

const workColumns = incidentColumns + `, acknowledged_at, acknowledged_by, resolved_at, resolved_by`

// Work returns the incident with its workflow, or ErrNotFound.
func (s *Incidents) Work(ctx context.Context, id string) (IncidentWork, error) {
	var w IncidentWork
	if err := s.db.x.GetContext(ctx, &w, s.db.x.Rebind(`SELECT `+workColumns+` FROM incidents WHERE id = ?`), id); err != nil {
		return w, wrap("incident", err)
	}
	w.Notes = []IncidentNoteRow{}
	q := s.db.x.Rebind(`SELECT id, incident_id, created_at, actor, action, note FROM incident_notes
		WHERE incident_id = ? ORDER BY created_at, id`)
	return w, wrap("incident notes", s.db.x.SelectContext(ctx, &w.Notes, q, id))
}

// IncidentFilter selects incidents for List: of one state ("" = all) and code, newest
// first, at most Limit (default 50).
type IncidentFilter struct {
	State string
	Code  string
	Limit int
}

// List returns the newest incidents matching f with their workflow (without notes).
func (s *Incidents) List(ctx context.Context, f IncidentFilter) ([]IncidentWork, error) {
	var where []string
	var args []any
	switch f.State {
	case StateOpen:
		where = append(where, `status = 'open' AND acknowledged_at IS NULL`)
	case StateAcknowledged:
		where = append(where, `status = 'open' AND acknowledged_at IS NOT NULL`)
	case StateResolved:
		where = append(where, `status = 'resolved'`)
	}
	if f.Code != "" {
		where, args = append(where, `code = ?`), append(args, f.Code)
	}
	if f.Limit <= 0 {
		f.Limit = 50
	}
	q := `SELECT ` + workColumns + ` FROM incidents`
	for i, w := range where {
		if i == 0 {
			q += ` WHERE ` + w
		} else {
			q += ` AND ` + w
		}
	}
	q += ` ORDER BY created_at DESC, id DESC LIMIT ?`
	out := []IncidentWork{}
	return out, wrap("list incidents", s.db.x.SelectContext(ctx, &out, s.db.x.Rebind(q), append(args, f.Limit)...))
}

// StateCounts counts incidents per state (open, acknowledged, resolved).
func (s *Incidents) StateCounts(ctx context.Context) (map[string]int, error) {
	var rows []struct {
		State string `db:"state"`
		N     int    `db:"n"`
	}
	q := `SELECT CASE WHEN status = 'resolved' THEN 'resolved' WHEN acknowledged_at IS NOT NULL THEN 'acknowledged'
		ELSE 'open' END AS state, COUNT(*) AS n FROM incidents GROUP BY 1`
	out := map[string]int{StateOpen: 0, StateAcknowledged: 0, StateResolved: 0}
	if err := s.db.x.SelectContext(ctx, &rows, q); err != nil {
		return out, wrap("incident states", err)
	}
	for _, r := range rows {
		out[r.State] = r.N
	}
	return out, nil
}

// Transition applies a workflow action by actor with an optional note, in one
// transaction with the note's row: acknowledge an open incident, resolve an open or
// acknowledged one, reopen an acknowledged or resolved one, or just add a note. An
// action the incident's state does not allow is ErrConflict; an unknown incident
// ErrNotFound.
func (s *Incidents) Transition(ctx context.Context, id, action, actor, note string) error {
	now := s.db.nowUTC()
	err := s.db.inTx(ctx, func(tx *sqlx.Tx) error {
		var w IncidentWork
		if err := tx.GetContext(ctx, &w, tx.Rebind(`SELECT `+workColumns+` FROM incidents WHERE id = ?`), id); err != nil {
			return err
		}
		state := w.State()
		var upd string
		var args []any
		switch {
		case action == IncidentAcknowledge && state == StateOpen:
			upd, args = `acknowledged_at = ?, acknowledged_by = ?`, []any{now, actor}
		case action == IncidentResolve && state != StateResolved:
			upd, args = `status = 'resolved', resolved_at = ?, resolved_by = ?`, []any{now, actor}
		case action == IncidentReopen && state != StateOpen:
			upd = `status = 'open', acknowledged_at = NULL, acknowledged_by = '', resolved_at = NULL, resolved_by = ''`
		case action == IncidentNote:
		case action == IncidentAcknowledge, action == IncidentResolve, action == IncidentReopen:
			return fmt.Errorf("cannot %s a%s incident: %w", action, article(state), ErrConflict)
		default:
			return fmt.Errorf("unknown incident action %q", action)
		}
		if upd != "" {
			if _, err := tx.ExecContext(ctx, tx.Rebind(`UPDATE incidents SET `+upd+` WHERE id = ?`), append(args, id)...); err != nil {
				return err
			}
		}
		_, err := tx.ExecContext(ctx, tx.Rebind(`INSERT INTO incident_notes (incident_id, created_at, actor, action, note)
			VALUES (?, ?, ?, ?, ?)`), id, now, actor, action, note)
		return err
	})
	return wrap("incident "+action, err)
}

func article(state string) string {
	if state == StateAcknowledged || state == StateOpen {
		return "n " + state
	}
	return " " + state
}

// ByRequestID returns the incidents of one request id, newest first (at most 20).
func (s *Incidents) ByRequestID(ctx context.Context, requestID string) ([]Incident, error) {
	out := []Incident{}
	if requestID == "" {
		return out, nil
	}
	q := s.db.x.Rebind(`SELECT ` + incidentColumns + ` FROM incidents WHERE request_id = ? ORDER BY created_at DESC LIMIT 20`)
	return out, wrap("incidents by request id", s.db.x.SelectContext(ctx, &out, q, requestID))
}
