package web

import (
	"fmt"
	"net/http"

	"github.com/hapa-project/hapa/realtime"
)

// FeedbackRecorder takes completion feedback; *realtime.FeedbackRecorder implements it.
type FeedbackRecorder interface {
	Record(caller realtime.Caller, f realtime.Feedback) *realtime.Error
}

// completionEvent is one report of POST /api/v1/completions/events.
type completionEvent struct {
	CompletionID  string `json:"completion_id"`
	Event         string `json:"event"`
	AcceptedChars *int   `json:"accepted_chars,omitempty"`
	AcceptedLines *int   `json:"accepted_lines,omitempty"`
}

type completionEventsRequest struct {
	Events []completionEvent `json:"events"`
}

// completionEventError is a report that was not taken.
type completionEventError struct {
	Index        int           `json:"index"`
	CompletionID string        `json:"completion_id"`
	ErrorCode    realtime.Code `json:"error_code"`
	Message      string        `json:"message"`
}

type completionEventsResponse struct {
	Received int                    `json:"received"`
	Accepted int                    `json:"accepted"`
	Errors   []completionEventError `json:"errors"`
}

// handleCompletionEvents serves POST /api/v1/completions/events: a batch of completion
// feedback (docs/api.md, "Completion feedback"). Each report is checked on its own: the
// answer is 200 with the reports not taken listed by index, unless the batch itself is
// malformed or empty (400) or too long (413).
func (s *Server) handleCompletionEvents(w http.ResponseWriter, r *http.Request) {
	var body completionEventsRequest
	if err := decodeJSON(r, &body); err != nil {
		s.writeError(w, r, err)
		return
	}
	switch {
	case len(body.Events) == 0:
		s.writeError(w, r, fieldErr(realtime.CodeMissingField, "events", "at least one event is required"))
		return
	case len(body.Events) > realtime.MaxFeedbackBatch:
		s.writeError(w, r, fieldErr(realtime.CodePayloadTooLarge, "events", fmt.Sprintf("at most %d events per request", realtime.MaxFeedbackBatch)))
		return
	}
	if s.deps.Feedback == nil {
		s.writeError(w, r, realtime.NewError(realtime.CodeInternal, "Completion feedback is not available"))
		return
	}
	caller, _ := callerFrom(r.Context())
	resp := completionEventsResponse{Received: len(body.Events), Errors: []completionEventError{}}
	for i, ev := range body.Events {
		err := s.deps.Feedback.Record(caller, realtime.Feedback{CompletionID: ev.CompletionID, Event: ev.Event,
			AcceptedChars: ev.AcceptedChars, AcceptedLines: ev.AcceptedLines})
		if err != nil {
			resp.Errors = append(resp.Errors, completionEventError{Index: i, CompletionID: ev.CompletionID, ErrorCode: err.Code, Message: err.Message})
			continue
		}
		resp.Accepted++
	}
	writeJSON(w, http.StatusOK, resp)
}

// fieldErr is a request error about one field.
func fieldErr(code realtime.Code, field, msg string) *realtime.Error {
	e := realtime.NewError(code, field+": "+msg)
	e.Fields = []realtime.FieldError{{Field: field, Code: code, Message: msg}}
	return e
}
