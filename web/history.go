package web

import (
	"net/http"
	"strconv"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// History routes (docs/compatibility.md, "DB-module routes"), scoped to the caller's
// user: another user's session is 404, like a missing one.

type sessionItem struct {
	store.HistorySession
	Timestamp string `json:"timestamp"` // created_at, as the DB-Module added it
}

type entryItem struct {
	store.HistoryEntry
	Timestamp string `json:"timestamp"`
}

func isoTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

func sessionItems(ss []store.HistorySession) []sessionItem {
	out := make([]sessionItem, 0, len(ss))
	for _, s := range ss {
		out = append(out, sessionItem{s, isoTime(s.CreatedAt)})
	}
	return out
}

func entryItems(es []store.HistoryEntry) []entryItem {
	out := make([]entryItem, 0, len(es))
	for _, e := range es {
		out = append(out, entryItem{e, isoTime(e.CreatedAt)})
	}
	return out
}

// queryLimit reads ?limit= (default def, range 1..max).
func queryLimit(r *http.Request, def, max int) (int, error) {
	raw := r.URL.Query().Get("limit")
	if raw == "" {
		return def, nil
	}
	n, err := strconv.Atoi(raw)
	if err != nil {
		e := realtime.NewError(realtime.CodeInvalidInput, "limit: must be an integer")
		e.Fields = []realtime.FieldError{{Field: "limit", Code: realtime.CodeInvalidInput, Message: "must be an integer"}}
		return 0, e
	}
	var v validator
	v.intRange("limit", n, 1, max)
	return n, v.err()
}

type newSessionRequest struct {
	SessionTitle    string   `json:"session_title"`
	PrimaryLanguage string   `json:"primary_language"`
	Tags            []string `json:"tags"`
	ProjectName     string   `json:"project_name"`
}

// handleSessionCreate serves POST /history/sessions.
func (s *Server) handleSessionCreate(w http.ResponseWriter, r *http.Request) {
	c := s.mustUser(r)
	var req newSessionRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var v validator
	v.maxLen("session_title", req.SessionTitle, 200)
	v.maxLen("primary_language", req.PrimaryLanguage, 50)
	v.maxLen("project_name", req.ProjectName, 100)
	v.intRange("tags", len(req.Tags), 0, 20)
	for i, t := range req.Tags {
		v.maxLen("tags["+strconv.Itoa(i)+"]", t, 50)
	}
	if err := v.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	sess, err := s.deps.DB.History().CreateSession(r.Context(), store.NewSession{
		UserID: c.UserID, Title: req.SessionTitle, PrimaryLanguage: req.PrimaryLanguage,
		Tags: req.Tags, ProjectName: req.ProjectName,
	})
	if err != nil {
		s.writeError(w, r, dbError(err, ""))
		return
	}
	writeJSON(w, http.StatusOK, sessionItem{sess, isoTime(sess.CreatedAt)})
}

// handleSessionList serves GET /history/sessions?limit=20 (1–100), most recent
// activity first.
func (s *Server) handleSessionList(w http.ResponseWriter, r *http.Request) {
	c := s.mustUser(r)
	limit, err := queryLimit(r, 20, 100)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	ss, err := s.deps.DB.History().ListSessions(r.Context(), c.UserID, limit)
	if err != nil {
		s.writeError(w, r, dbError(err, ""))
		return
	}
	writeJSON(w, http.StatusOK, sessionItems(ss))
}

// handleSessionEntries serves GET /history/sessions/{session_id}?limit=50 (1–200):
// the session's entries, newest first.
func (s *Server) handleSessionEntries(w http.ResponseWriter, r *http.Request) {
	c := s.mustUser(r)
	limit, err := queryLimit(r, 50, 200)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	es, err := s.deps.DB.History().Entries(r.Context(), c.UserID, r.PathValue("session_id"), limit)
	if err != nil {
		s.writeError(w, r, dbError(err, "Session not found"))
		return
	}
	writeJSON(w, http.StatusOK, entryItems(es))
}

type deleteSessionResponse struct {
	Success         bool   `json:"success"`
	Message         string `json:"message"`
	SessionID       string `json:"session_id"`
	DeletedEntries  int    `json:"deleted_entries"`
	DeletedSessions int    `json:"deleted_sessions"`
}

// handleSessionDelete serves DELETE /history/sessions/{session_id}.
func (s *Server) handleSessionDelete(w http.ResponseWriter, r *http.Request) {
	c := s.mustUser(r)
	id := r.PathValue("session_id")
	n, err := s.deps.DB.History().DeleteSession(r.Context(), c.UserID, id)
	if err != nil {
		s.writeError(w, r, dbError(err, "Session not found"))
		return
	}
	writeJSON(w, http.StatusOK, deleteSessionResponse{Success: true, Message: "Session deleted",
		SessionID: id, DeletedEntries: n, DeletedSessions: 1})
}
