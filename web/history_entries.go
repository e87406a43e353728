package web

import (
	"net/http"
	"strings"
	"time"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// conversationTypes are the accepted conversation_type values.
var conversationTypes = []string{"question", "answer", "feedback", "error", "system"}

// Size limits of entry fields (characters); the body limit bounds the total anyway.
const (
	maxEntryContent = 100_000
	maxEntrySnippet = 100_000
)

type newEntryRequest struct {
	SessionID        string   `json:"session_id"`
	ConversationType string   `json:"conversation_type"`
	Content          *string  `json:"content"`
	Language         string   `json:"language"`
	CodeSnippet      string   `json:"code_snippet"`
	FileName         string   `json:"file_name"`
	LineNumber       *int     `json:"line_number"`
	ResponseTime     *float64 `json:"response_time"`
	ConfidenceScore  *float64 `json:"confidence_score"`
}

type newEntryResponse struct {
	Success   bool   `json:"success"`
	EntryID   string `json:"entry_id"`
	SessionID string `json:"session_id"`
	Message   string `json:"message"`
	Timestamp string `json:"timestamp"`
}

// handleEntryCreate serves POST /history/entries; the session's counters move with it.
func (s *Server) handleEntryCreate(w http.ResponseWriter, r *http.Request) {
	c := s.mustUser(r)
	var req newEntryRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var v validator
	v.requiredString("session_id", req.SessionID)
	if v.requiredString("conversation_type", req.ConversationType) {
		v.oneOf("conversation_type", req.ConversationType, conversationTypes...)
	}
	if v.required("content", req.Content != nil) {
		v.maxLen("content", *req.Content, maxEntryContent)
	}
	v.maxLen("language", req.Language, 50)
	v.maxLen("code_snippet", req.CodeSnippet, maxEntrySnippet)
	v.maxLen("file_name", req.FileName, 255)
	if req.LineNumber != nil {
		v.intRange("line_number", *req.LineNumber, 0, 10_000_000)
	}
	if req.ResponseTime != nil {
		v.floatRange("response_time", *req.ResponseTime, 0, 86_400)
	}
	if req.ConfidenceScore != nil {
		v.floatRange("confidence_score", *req.ConfidenceScore, 0, 1)
	}
	if err := v.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	e, err := s.deps.DB.History().AddEntry(r.Context(), store.HistoryEntry{
		SessionID: req.SessionID, UserID: c.UserID, ConversationType: req.ConversationType,
		Content: *req.Content, Language: req.Language, CodeSnippet: req.CodeSnippet, FileName: req.FileName,
		LineNumber: req.LineNumber, ResponseTime: req.ResponseTime, ConfidenceScore: req.ConfidenceScore,
	})
	if err != nil {
		s.writeError(w, r, dbError(err, "Session not found"))
		return
	}
	writeJSON(w, http.StatusOK, newEntryResponse{Success: true, EntryID: e.EntryID, SessionID: e.SessionID,
		Message: "Entry added", Timestamp: isoTime(e.CreatedAt)})
}

type searchRequest struct {
	Query            string   `json:"query"`
	SessionIDs       []string `json:"session_ids"`
	Language         string   `json:"language"`
	ConversationType string   `json:"conversation_type"`
	DateFrom         string   `json:"date_from"`
	DateTo           string   `json:"date_to"`
	Limit            *int     `json:"limit"`
}

// parseDate accepts RFC 3339, a naive ISO date-time (read as UTC, the original's
// format) or a bare date.
func parseDate(v *validator, field, s string) time.Time {
	if s = strings.TrimSpace(s); s == "" {
		return time.Time{}
	}
	for _, layout := range []string{time.RFC3339Nano, "2006-01-02T15:04:05.999999999", "2006-01-02T15:04", "2006-01-02"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t
		}
	}
	v.add(field, realtime.CodeOutOfRange, "must be an ISO-8601 date or date-time")
	return time.Time{}
}

// handleSearch serves POST /history/search: substring search over the caller's entry
// contents and code snippets (case-insensitive), newest first.
func (s *Server) handleSearch(w http.ResponseWriter, r *http.Request) {
	c := s.mustUser(r)
	var req searchRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var v validator
	if v.requiredString("query", req.Query) {
		v.maxLen("query", req.Query, 500)
	}
	v.intRange("session_ids", len(req.SessionIDs), 0, 100)
	v.oneOf("conversation_type", req.ConversationType, conversationTypes...)
	from := parseDate(&v, "date_from", req.DateFrom)
	to := parseDate(&v, "date_to", req.DateTo)
	limit := 20
	if req.Limit != nil {
		limit = *req.Limit
		v.intRange("limit", limit, 1, 100)
	}
	if err := v.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	es, err := s.deps.DB.History().Search(r.Context(), c.UserID, store.SearchFilter{
		Query: req.Query, SessionIDs: req.SessionIDs, Language: req.Language,
		ConversationType: req.ConversationType, From: from, To: to, Limit: limit,
	})
	if err != nil {
		s.writeError(w, r, dbError(err, ""))
		return
	}
	writeJSON(w, http.StatusOK, entryItems(es))
}

type statsResponse struct {
	store.HistoryStats
	SessionsToday        int     `json:"sessions_today"`
	SessionsThisWeek     int     `json:"sessions_this_week"`
	AverageSessionLength float64 `json:"average_session_length"` // entries per session
}

// statsScan bounds the sessions read to count today's and this week's.
const statsScan = 1000

// handleStats serves GET /history/stats. Unlike the original's zeros, sessions_today
// and sessions_this_week (UTC days, the last 7 days) are counted from the caller's
// most recently active 1,000 sessions, and average_session_length is entries per session.
func (s *Server) handleStats(w http.ResponseWriter, r *http.Request) {
	c := s.mustUser(r)
	ctx := r.Context()
	st, err := s.deps.DB.History().Stats(ctx, c.UserID)
	if err != nil {
		s.writeError(w, r, dbError(err, ""))
		return
	}
	ss, err := s.deps.DB.History().ListSessions(ctx, c.UserID, statsScan)
	if err != nil {
		s.writeError(w, r, dbError(err, ""))
		return
	}
	now := s.now().UTC()
	today := time.Date(now.Year(), now.Month(), now.Day(), 0, 0, 0, 0, time.UTC)
	week := today.AddDate(0, 0, -6)
	out := statsResponse{HistoryStats: st}
	for _, sess := range ss {
		if !sess.CreatedAt.Before(today) {
			out.SessionsToday++
		}
		if !sess.CreatedAt.Before(week) {
			out.SessionsThisWeek++
		}
	}
	if st.TotalSessions > 0 {
		out.AverageSessionLength = float64(st.TotalEntries) / float64(st.TotalSessions)
	}
	writeJSON(w, http.StatusOK, out)
}

// handleHistoryHealth serves GET /history/health (no auth). It reports the database
// state only: the original's global session and entry totals are left out, since they
// told anonymous callers how much the service is used.
func (s *Server) handleHistoryHealth(w http.ResponseWriter, r *http.Request) {
	status, code, db := "healthy", http.StatusOK, StateConnected
	if s.pingDB(r.Context()) != nil {
		status, code, db = "unhealthy", http.StatusServiceUnavailable, StateError
	}
	writeJSON(w, code, historyHealthBody{Status: status, Service: "history", Version: s.cfg.Version,
		Database: db, Timestamp: isoTime(s.now())})
}
