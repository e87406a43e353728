package store

import (
	"context"
	"crypto/rand"
	"database/sql/driver"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
)

// HistorySession is one conversation of an editor user (DB-Module shape).
type HistorySession struct {
	SessionID       string      `db:"session_id" json:"session_id"`
	UserID          int64       `db:"user_id" json:"user_id"`
	SessionTitle    string      `db:"session_title" json:"session_title"`
	Status          string      `db:"status" json:"status"` // active | archived | deleted
	PrimaryLanguage string      `db:"primary_language" json:"primary_language"`
	Tags            JSONStrings `db:"tags" json:"tags"`
	ProjectName     string      `db:"project_name" json:"project_name"`
	TotalEntries    int         `db:"total_entries" json:"total_entries"`
	QuestionCount   int         `db:"question_count" json:"question_count"`
	AnswerCount     int         `db:"answer_count" json:"answer_count"`
	CreatedAt       time.Time   `db:"created_at" json:"created_at"`
	UpdatedAt       time.Time   `db:"updated_at" json:"updated_at"`
	LastActivity    time.Time   `db:"last_activity" json:"last_activity"`
}

// JSONStrings is a []string stored as a JSON array in a TEXT column.
type JSONStrings []string

// Value implements driver.Valuer.
func (j JSONStrings) Value() (driver.Value, error) {
	if j == nil {
		return "[]", nil
	}
	b, err := json.Marshal([]string(j))
	return string(b), err
}

// Scan implements sql.Scanner.
func (j *JSONStrings) Scan(src any) error {
	var b []byte
	switch v := src.(type) {
	case string:
		b = []byte(v)
	case []byte:
		b = v
	case nil:
		*j = JSONStrings{}
		return nil
	default:
		return fmt.Errorf("store: cannot scan %T into tags", src)
	}
	out := []string{}
	if err := json.Unmarshal(b, &out); err != nil {
		return fmt.Errorf("store: tags: %w", err)
	}
	*j = out
	return nil
}

// NewSession describes a history session to create.
type NewSession struct {
	UserID          int64
	Title           string // default "Session session_" (the original's literal)
	PrimaryLanguage string // default "python"
	Tags            []string
	ProjectName     string
}

// History is the accessor of history_sessions and history_entries. Every
// method is scoped by user: another user's session is ErrNotFound.
type History struct{ db *DB }

// History returns the history accessor.
func (db *DB) History() *History { return &History{db: db} }

const sessionColumns = `session_id, user_id, session_title, status, primary_language, tags, project_name,
	total_entries, question_count, answer_count, created_at, updated_at, last_activity`

// newHistoryID returns prefix + 8 random hex characters (the original's
// format); callers retry on the rare collision.
func newHistoryID(prefix string) string {
	var b [4]byte
	rand.Read(b[:])
	return prefix + hex.EncodeToString(b[:])
}

// idAttempts bounds retries after an 8-hex id collision.
const idAttempts = 4

// CreateSession creates an active session.
func (h *History) CreateSession(ctx context.Context, ns NewSession) (HistorySession, error) {
	if ns.Title == "" {
		ns.Title = "Session session_"
	}
	if ns.PrimaryLanguage == "" {
		ns.PrimaryLanguage = "python"
	}
	now := h.db.nowUTC()
	s := HistorySession{UserID: ns.UserID, SessionTitle: ns.Title, Status: "active",
		PrimaryLanguage: ns.PrimaryLanguage, Tags: JSONStrings(ns.Tags), ProjectName: ns.ProjectName,
		CreatedAt: now, UpdatedAt: now, LastActivity: now}
	if s.Tags == nil {
		s.Tags = JSONStrings{}
	}
	q := h.db.x.Rebind(`INSERT INTO history_sessions (` + sessionColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, 0, 0, 0, ?, ?, ?)`)
	var err error
	for range idAttempts {
		s.SessionID = newHistoryID("session_")
		_, err = h.db.x.ExecContext(ctx, q, s.SessionID, s.UserID, s.SessionTitle, s.Status, s.PrimaryLanguage,
			s.Tags, s.ProjectName, s.CreatedAt, s.UpdatedAt, s.LastActivity)
		if !isUniqueViolation(err) {
			break
		}
	}
	return s, wrap("create history session", err)
}

// Session returns one of the user's sessions, or ErrNotFound.
func (h *History) Session(ctx context.Context, userID int64, sessionID string) (HistorySession, error) {
	s, err := h.session(ctx, h.db.x, userID, sessionID)
	return s, wrap("history session", err)
}

func (h *History) session(ctx context.Context, q sqlx.ExtContext, userID int64, sessionID string) (HistorySession, error) {
	var s HistorySession
	err := sqlx.GetContext(ctx, q, &s, q.Rebind(`SELECT `+sessionColumns+` FROM history_sessions
		WHERE session_id = ? AND user_id = ?`), sessionID, userID)
	return s, err
}

// ListSessions returns the user's sessions, most recent activity first, at
// most limit (≤ 0: 20).
func (h *History) ListSessions(ctx context.Context, userID int64, limit int) ([]HistorySession, error) {
	if limit <= 0 {
		limit = 20
	}
	out := []HistorySession{}
	q := h.db.x.Rebind(`SELECT ` + sessionColumns + ` FROM history_sessions WHERE user_id = ?
		ORDER BY last_activity DESC, session_id LIMIT ?`)
	return out, wrap("list history sessions", h.db.x.SelectContext(ctx, &out, q, userID, limit))
}

// DeleteSession deletes one of the user's sessions with its entries and
// returns how many entries went; ErrNotFound if it is not the user's.
func (h *History) DeleteSession(ctx context.Context, userID int64, sessionID string) (int, error) {
	var n int
	err := h.db.inTx(ctx, func(tx *sqlx.Tx) error {
		s, err := h.session(ctx, tx, userID, sessionID)
		if err != nil {
			return err
		}
		if err := tx.GetContext(ctx, &n, tx.Rebind(`SELECT COUNT(*) FROM history_entries WHERE session_id = ?`), s.SessionID); err != nil {
			return err
		}
		// Entries go by ON DELETE CASCADE.
		_, err = tx.ExecContext(ctx, tx.Rebind(`DELETE FROM history_sessions WHERE session_id = ?`), s.SessionID)
		return err
	})
	if errors.Is(err, ErrNotFound) {
		n = 0
	}
	return n, wrap("delete history session", err)
}
