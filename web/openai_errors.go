package web

import (
	"bytes"
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/hapa-project/hapa/realtime"
)

// The OpenAI-compatible routes answer errors in OpenAI's envelope
// {"error":{"message","type","param","code"}} instead of HAPA's body, because their
// clients (the official SDKs, Continue, aider) parse only that. openAIErrorOf is the one
// mapping from the catalogue to it; the catalogue's 422s become 400, as vLLM and OpenAI
// answer invalid parameters.

// openAIErrorBody is the envelope's inner object. HAPACode and IncidentID are HAPA's
// additions (clients ignore unknown fields): the catalogue code, and the incident id
// of a 5xx that the admin console can look up.
type openAIErrorBody struct {
	Message    string  `json:"message"`
	Type       string  `json:"type"`
	Param      *string `json:"param"`
	Code       *string `json:"code"`
	HAPACode   string  `json:"hapa_code,omitempty"`
	IncidentID string  `json:"incident_id,omitempty"`
}

type openAIErrorEnvelope struct {
	Error openAIErrorBody `json:"error"`
}

// openAIKinds gives each catalogue code its OpenAI status, type and code.
var openAIKinds = map[realtime.Code]struct {
	status    int
	typ, code string
}{
	realtime.CodeInvalidInput:     {400, "invalid_request_error", "invalid_value"},
	realtime.CodeMissingField:     {400, "invalid_request_error", "missing_required_parameter"},
	realtime.CodeOutOfRange:       {400, "invalid_request_error", "invalid_value"},
	realtime.CodeUnsupportedLang:  {400, "invalid_request_error", "unsupported_language"},
	realtime.CodeInvalidKey:       {401, "authentication_error", "invalid_api_key"},
	realtime.CodeKeyExpired:       {401, "authentication_error", "expired_api_key"},
	realtime.CodeKeyRevoked:       {401, "authentication_error", "revoked_api_key"},
	realtime.CodeForbidden:        {403, "permission_error", "insufficient_scope"},
	realtime.CodeOriginNotAllowed: {403, "permission_error", "origin_not_allowed"},
	realtime.CodeNotFound:         {404, "invalid_request_error", "model_not_found"},
	realtime.CodeConflict:         {409, "invalid_request_error", "conflict"},
	realtime.CodePayloadTooLarge:  {413, "invalid_request_error", "payload_too_large"},
	realtime.CodeRateLimited:      {429, "rate_limit_error", "rate_limit_exceeded"},
	realtime.CodeTooManyStreams:   {429, "rate_limit_error", "too_many_streams"},
	realtime.CodeTooManyConns:     {429, "rate_limit_error", "too_many_connections"},
	realtime.CodeQuotaExceeded:    {429, "rate_limit_error", "insufficient_quota"},
	realtime.CodeInternal:         {500, "server_error", "internal_error"},
	realtime.CodeModelError:       {502, "server_error", "model_error"},
	realtime.CodeCacheError:       {503, "server_error", "service_unavailable"},
	realtime.CodeDatabaseError:    {503, "server_error", "service_unavailable"},
	realtime.CodeModelUnavailable: {503, "server_error", "service_unavailable"},
	realtime.CodeModelTimeout:     {504, "server_error", "timeout"},
}

// openAIErrorOf maps e to its status and envelope, the message in lang. param names the offending request
// field: the first field error's, reduced to its top-level name ("messages[2].role" →
// "messages"), or "model" for a missing model.
func openAIErrorOf(e *realtime.Error, lang realtime.Lang) (int, openAIErrorEnvelope) {
	k, ok := openAIKinds[e.Code]
	if !ok {
		k = openAIKinds[realtime.CodeInternal]
	}
	msg, _ := realtime.Localize(e, lang)
	b := openAIErrorBody{Message: msg, Type: k.typ, Code: &k.code, HAPACode: string(e.Code), IncidentID: e.IncidentID}
	if len(e.Fields) > 0 {
		p := openAIParam(e.Fields[0].Field)
		b.Param = &p
	} else if e.Code == realtime.CodeNotFound {
		p := "model"
		b.Param = &p
	}
	return k.status, openAIErrorEnvelope{Error: b}
}

// openAIParam is the top-level request field of an engine or decoder field path.
// The engine names completion text "prefix" and "suffix"; the client sent "prompt".
func openAIParam(field string) string {
	if i := strings.IndexAny(field, ".["); i > 0 {
		field = field[:i]
	}
	switch field {
	case "prefix":
		return "prompt"
	case "model_type":
		return "model"
	}
	return field
}

// writeOpenAIError writes err in the OpenAI envelope with its real status, before any
// other byte of the response. It logs and records 5xx incidents like writeError.
func (s *Server) writeOpenAIError(w http.ResponseWriter, r *http.Request, err error) {
	_, e := s.errorPayload(r, err, false) // logs, records the incident, fills the message
	status, env := openAIErrorOf(e, requestLang(r))
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("X-Content-Type-Options", "nosniff")
	h.Del("Content-Length")
	if e.RetryAfter > 0 {
		secs := int64((e.RetryAfter + time.Second - 1) / time.Second)
		h.Set("Retry-After", strconv.FormatInt(secs, 10))
	}
	w.WriteHeader(status)
	_, _ = w.Write(openAIJSON(env))
}

// openAIErrorEvent is the SSE event of an error after the stream started (vLLM's
// shape): `data: {"error":{…}}`.
func (s *Server) openAIErrorEvent(r *http.Request, err error) []byte {
	_, e := s.errorPayload(r, err, false)
	_, env := openAIErrorOf(e, requestLang(r))
	b := append([]byte("data: "), bytes.TrimRight(openAIJSON(env), "\n")...)
	return append(b, "\n\n"...)
}

// openAIJSON encodes v without HTML escaping, ending with a newline.
func openAIJSON(v any) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return []byte(`{"error":{"message":"Internal server error","type":"server_error","param":null,"code":"internal_error"}}` + "\n")
	}
	return buf.Bytes()
}
