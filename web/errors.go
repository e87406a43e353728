package web

import (
	"bytes"
	"encoding/json"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/hapa-project/hapa/realtime"
)

// errorBody is the one JSON error shape (docs/api.md, "Conventions"):
// detail/message/error_message carry the same client-facing text because the original
// clients read different ones.
type errorBody struct {
	Type         string        `json:"type,omitempty"`    // SSE routes only: "error"
	Content      string        `json:"content,omitempty"` // SSE routes only: the message
	Detail       string        `json:"detail"`
	Message      string        `json:"message"`
	ErrorMessage string        `json:"error_message"`
	ErrorCode    realtime.Code `json:"error_code"`
	Status       string        `json:"status"`
	Timestamp    string        `json:"timestamp"`
	Path         string        `json:"path"`
	RequestID    string        `json:"request_id,omitempty"`
	IncidentID   string        `json:"incident_id,omitempty"`
	Details      []fieldDetail `json:"details,omitempty"`
	RecoveryHint string        `json:"recovery_hint,omitempty"`
	IsComplete   *bool         `json:"is_complete,omitempty"` // SSE routes only
}

// fieldDetail is one field error. field/message/code are HAPA's; loc/msg/type repeat
// them in the Pydantic shape that the extension prints for 422 responses.
type fieldDetail struct {
	Field   string        `json:"field"`
	Message string        `json:"message"`
	Code    realtime.Code `json:"code"`
	Loc     []string      `json:"loc"`
	Msg     string        `json:"msg"`
	Type    string        `json:"type"`
}

// writeError is the one mapping from an error to an HTTP response: any error becomes a
// *realtime.Error (non-catalogue errors are E5004), the status comes from the
// catalogue, 5xx are recorded as incidents, and internal detail is only logged.
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	s.writeErrorAs(w, r, err, 0, false)
}

// writeSSEError is writeError for the SSE routes, whose clients parse any status below
// 500 as a stream: the body also has "type":"error" and "content", and ends with a
// newline.
func (s *Server) writeSSEError(w http.ResponseWriter, r *http.Request, err error) {
	s.writeErrorAs(w, r, err, 0, true)
}

// writeErrorAs writes err with an explicit status when status is non-zero (405, which
// has no catalogue code of its own).
func (s *Server) writeErrorAs(w http.ResponseWriter, r *http.Request, err error, status int, sse bool) {
	body, e := s.errorPayload(r, err, sse)
	if status == 0 {
		status = e.Status()
	}
	h := w.Header()
	h.Set("Content-Type", "application/json; charset=utf-8")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	if e.RetryAfter > 0 {
		secs := int64((e.RetryAfter + time.Second - 1) / time.Second)
		h.Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(body) // a struct of strings cannot fail; Encode ends with '\n'
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// errorPayload builds the body for err, logging it and recording 5xx incidents.
func (s *Server) errorPayload(r *http.Request, err error, sse bool) (errorBody, *realtime.Error) {
	e := realtime.AsError(err)
	ctx := r.Context()
	rid := requestIDFrom(ctx)
	msg, hint := realtime.Localize(e, requestLang(r))
	if e.Server() {
		if e.IncidentID == "" && s.deps.Incidents != nil {
			e.IncidentID = s.deps.Incidents.Record(ctx, e, r.URL.Path, rid)
		}
		s.log.ErrorContext(ctx, "request failed",
			slog.String("code", string(e.Code)), slog.String("detail", e.Detail),
			slog.String("path", r.URL.Path), slog.String("request_id", rid),
			slog.String("incident_id", e.IncidentID))
	} else if e.Detail != "" {
		s.log.DebugContext(ctx, "request rejected",
			slog.String("code", string(e.Code)), slog.String("detail", e.Detail),
			slog.String("request_id", rid))
	}
	b := errorBody{
		Detail: msg, Message: msg, ErrorMessage: msg,
		ErrorCode:    e.Code,
		Status:       "error",
		Timestamp:    s.now().UTC().Format(time.RFC3339),
		Path:         r.URL.Path,
		RequestID:    rid,
		IncidentID:   e.IncidentID,
		RecoveryHint: hint,
	}
	for _, f := range e.Fields {
		code := f.Code
		if code == "" {
			code = e.Code
		}
		b.Details = append(b.Details, fieldDetail{
			Field: f.Field, Message: f.Message, Code: code,
			Loc: []string{"body", f.Field}, Msg: f.Message, Type: pydanticType(code),
		})
	}
	if sse {
		done := true
		b.Type, b.Content, b.IsComplete = "error", msg, &done
	}
	return b, e
}

// requestLang is the catalogue language the request asks for (Accept-Language; English
// by default): error bodies, SSE error events and the /v1 envelope are written in it.
func requestLang(r *http.Request) realtime.Lang {
	return realtime.ParseAcceptLanguage(r.Header.Get("Accept-Language"))
}

// pydanticType names a field error the way the original's validation errors did.
func pydanticType(c realtime.Code) string {
	switch c {
	case realtime.CodeMissingField:
		return "missing"
	case realtime.CodeOutOfRange:
		return "value_error"
	default:
		return "type_error"
	}
}
