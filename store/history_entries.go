package store

import (
	"context"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
)

// HistoryEntry is one message of a session.
type HistoryEntry struct {
	EntryID          string    `db:"entry_id" json:"entry_id"`
	SessionID        string    `db:"session_id" json:"session_id"`
	UserID           int64     `db:"user_id" json:"user_id"`
	ConversationType string    `db:"conversation_type" json:"conversation_type"` // question|answer|feedback|error|system
	Content          string    `db:"content" json:"content"`
	Language         string    `db:"language" json:"language"`
	CodeSnippet      string    `db:"code_snippet" json:"code_snippet"`
	FileName         string    `db:"file_name" json:"file_name"`
	LineNumber       *int      `db:"line_number" json:"line_number"`
	ResponseTime     *float64  `db:"response_time" json:"response_time"`
	ConfidenceScore  *float64  `db:"confidence_score" json:"confidence_score"`
	CreatedAt        time.Time `db:"created_at" json:"created_at"`
}

const entryColumns = `entry_id, session_id, user_id, conversation_type, content, language, code_snippet,
	file_name, line_number, response_time, confidence_score, created_at`

// AddEntry appends e (EntryID and CreatedAt are filled in) to one of the
// user's sessions and updates the session's counters and last_activity in
// the same transaction; ErrNotFound if the session is not e.UserID's.
func (h *History) AddEntry(ctx context.Context, e HistoryEntry) (HistoryEntry, error) {
	if e.Language == "" {
		e.Language = "python"
	}
	e.CreatedAt = h.db.nowUTC()
	var err error
	for range idAttempts {
		e.EntryID = newHistoryID("entry_")
		err = h.db.inTx(ctx, func(tx *sqlx.Tx) error { return h.addEntry(ctx, tx, &e) })
		if !isUniqueViolation(err) {
			break
		}
	}
	return e, wrap("add history entry", err)
}

// addEntry inserts e. Its created_at is kept strictly after the session's last
// activity, so entries of one session never tie (clients pair question and answer by
// created_at, and Entries lists newest first).
func (h *History) addEntry(ctx context.Context, tx *sqlx.Tx, e *HistoryEntry) error {
	if h.db.dialect == Postgres { // serialise writers of one session (SQLite's are already)
		if _, err := tx.ExecContext(ctx, `SELECT 1 FROM history_sessions WHERE session_id = $1 FOR UPDATE`, e.SessionID); err != nil {
			return err
		}
	}
	sess, err := h.session(ctx, tx, e.UserID, e.SessionID)
	if err != nil {
		return err
	}
	if last := sess.LastActivity; !e.CreatedAt.After(last) && sess.TotalEntries > 0 {
		e.CreatedAt = last.Add(time.Millisecond)
	}
	q := tx.Rebind(`INSERT INTO history_entries (` + entryColumns + `) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if _, err := tx.ExecContext(ctx, q, e.EntryID, e.SessionID, e.UserID, e.ConversationType, e.Content,
		e.Language, e.CodeSnippet, e.FileName, e.LineNumber, e.ResponseTime, e.ConfidenceScore, e.CreatedAt); err != nil {
		return err
	}
	q = tx.Rebind(`UPDATE history_sessions SET total_entries = total_entries + 1,
		question_count = question_count + ?, answer_count = answer_count + ?, last_activity = ?, updated_at = ?
		WHERE session_id = ?`)
	_, err = tx.ExecContext(ctx, q, b2i(e.ConversationType == "question"), b2i(e.ConversationType == "answer"),
		e.CreatedAt, e.CreatedAt, e.SessionID)
	return err
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Entries returns a session's entries, newest first, at most limit (≤ 0:
// 50); ErrNotFound if the session is not the user's.
func (h *History) Entries(ctx context.Context, userID int64, sessionID string, limit int) ([]HistoryEntry, error) {
	if _, err := h.Session(ctx, userID, sessionID); err != nil {
		return nil, err
	}
	if limit <= 0 {
		limit = 50
	}
	out := []HistoryEntry{}
	q := h.db.x.Rebind(`SELECT ` + entryColumns + ` FROM history_entries WHERE session_id = ? AND user_id = ?
		ORDER BY created_at DESC, entry_id DESC LIMIT ?`)
	return out, wrap("history entries", h.db.x.SelectContext(ctx, &out, q, sessionID, userID, limit))
}

// SearchFilter narrows Search. Zero fields do not filter.
type SearchFilter struct {
	Query            string // substring of content or code, case-insensitive
	SessionIDs       []string
	Language         string
	ConversationType string
	From, To         time.Time // created_at in [From, To)
	Limit            int       // default 20
}

// Search returns the user's entries matching f, newest first.
func (h *History) Search(ctx context.Context, userID int64, f SearchFilter) ([]HistoryEntry, error) {
	where := []string{"user_id = ?"}
	args := []any{userID}
	if f.Query != "" {
		p := likePattern(f.Query)
		where = append(where, `(LOWER(content) LIKE ? ESCAPE '\' OR LOWER(code_snippet) LIKE ? ESCAPE '\')`)
		args = append(args, p, p)
	}
	if len(f.SessionIDs) > 0 {
		where = append(where, "session_id IN (?"+strings.Repeat(", ?", len(f.SessionIDs)-1)+")")
		for _, id := range f.SessionIDs {
			args = append(args, id)
		}
	}
	if f.Language != "" {
		where, args = append(where, "language = ?"), append(args, f.Language)
	}
	if f.ConversationType != "" {
		where, args = append(where, "conversation_type = ?"), append(args, f.ConversationType)
	}
	if !f.From.IsZero() {
		where, args = append(where, "created_at >= ?"), append(args, ts(f.From))
	}
	if !f.To.IsZero() {
		where, args = append(where, "created_at < ?"), append(args, ts(f.To))
	}
	if f.Limit <= 0 {
		f.Limit = 20
	}
	out := []HistoryEntry{}
	q := `SELECT ` + entryColumns + ` FROM history_entries WHERE ` + strings.Join(where, " AND ") +
		` ORDER BY created_at DESC, entry_id DESC LIMIT ?`
	return out, wrap("search history", h.db.x.SelectContext(ctx, &out, h.db.x.Rebind(q), append(args, f.Limit)...))
}

// HistoryStats summarises one user's history.
type HistoryStats struct {
	TotalSessions        int            `json:"total_sessions"`
	ActiveSessions       int            `json:"active_sessions"`
	TotalEntries         int            `json:"total_entries"`
	TotalQuestions       int            `json:"total_questions"`
	TotalAnswers         int            `json:"total_answers"`
	LanguageDistribution map[string]int `json:"language_distribution"` // sessions per primary language
}

// Stats summarises the user's sessions.
func (h *History) Stats(ctx context.Context, userID int64) (HistoryStats, error) {
	var rows []struct {
		Lang      string `db:"primary_language"`
		Status    string `db:"status"`
		N         int    `db:"n"`
		Entries   int    `db:"entries"`
		Questions int    `db:"questions"`
		Answers   int    `db:"answers"`
	}
	q := h.db.x.Rebind(`SELECT primary_language, status, COUNT(*) AS n, COALESCE(SUM(total_entries), 0) AS entries,
		COALESCE(SUM(question_count), 0) AS questions, COALESCE(SUM(answer_count), 0) AS answers
		FROM history_sessions WHERE user_id = ? GROUP BY primary_language, status`)
	st := HistoryStats{LanguageDistribution: map[string]int{}}
	if err := h.db.x.SelectContext(ctx, &rows, q, userID); err != nil {
		return st, wrap("history stats", err)
	}
	for _, r := range rows {
		st.TotalSessions += r.N
		if r.Status == "active" {
			st.ActiveSessions += r.N
		}
		st.TotalEntries += r.Entries
		st.TotalQuestions += r.Questions
		st.TotalAnswers += r.Answers
		st.LanguageDistribution[r.Lang] += r.N
	}
	return st, nil
}
