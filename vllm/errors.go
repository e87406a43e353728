package vllm

import (
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Sentinel errors. Match them with errors.Is; an *APIError matches the sentinel its
// status and message imply.
var (
	// ErrContextLength means the prompt plus max_tokens exceed the model's context.
	ErrContextLength = errors.New("vllm: maximum context length exceeded")
	// ErrModelNotFound means the base model or LoRA adapter is not served.
	ErrModelNotFound = errors.New("vllm: model not found")
	// ErrOverloaded means the upstream refused for load (429, 503) or no replica could
	// take the request.
	ErrOverloaded = errors.New("vllm: overloaded")
	// ErrTimeout means a connect, first-token or idle-gap limit expired.
	ErrTimeout = errors.New("vllm: timeout")
	// ErrUnavailable means no replica is healthy. errors.Is(ErrUnavailable,
	// ErrOverloaded) is true, so callers that only know ErrOverloaded still back off.
	ErrUnavailable error = &sentinel{msg: "vllm: no healthy replica", parent: ErrOverloaded}
	// ErrTruncated means the stream ended before any finish reason.
	ErrTruncated = errors.New("vllm: stream ended before a finish reason")
	// ErrLineTooLong means one SSE line exceeded the decoder's limit.
	ErrLineTooLong = errors.New("vllm: SSE line too long")
)

// sentinel is an error that also matches a parent sentinel.
type sentinel struct {
	msg    string
	parent error
}

func (s *sentinel) Error() string { return s.msg }
func (s *sentinel) Unwrap() error { return s.parent }

// APIError is an error reported by vLLM: a non-2xx response, an HTTP 200 whose body is
// a JSON error, or a `data: {"error":…}` event inside a stream.
type APIError struct {
	Status  int    // HTTP status, or the error's numeric code for in-stream errors
	Type    string // BadRequestError, NotFoundError, InternalServerError, …
	Message string
	Param   string
	Code    string // vLLM sends the HTTP status as a number; kept as text
}

// Error implements error.
func (e *APIError) Error() string {
	var b strings.Builder
	b.WriteString("vllm: ")
	if e.Status != 0 {
		b.WriteString(strconv.Itoa(e.Status))
		b.WriteByte(' ')
	}
	if e.Type != "" {
		b.WriteString(e.Type)
		b.WriteString(": ")
	}
	b.WriteString(e.Message)
	return b.String()
}

// Is makes errors.Is(err, ErrContextLength | ErrModelNotFound | ErrOverloaded) work.
func (e *APIError) Is(target error) bool {
	switch target {
	case ErrContextLength:
		return (e.Status == 400 || e.Type == "BadRequestError") &&
			(strings.Contains(e.Message, "maximum context length") || e.Code == "context_length_exceeded")
	case ErrModelNotFound:
		return e.Status == 404 || e.Type == "NotFoundError" || e.Code == "model_not_found"
	case ErrOverloaded:
		return e.Status == 429 || e.Status == 503
	}
	return false
}

// Temporary reports whether another replica could answer the same request: 5xx and
// 429. Client errors (4xx) are the request's fault and would fail everywhere.
func (e *APIError) Temporary() bool { return e.Status >= 500 || e.Status == 429 }

// wireError holds both of vLLM's error shapes: nested {"error":{…}} (≥ 0.10.1) and the
// older flat {"object":"error",…}. "error" may also be a bare string (the 401 body).
type wireError struct {
	Object  string          `json:"object"`
	Message string          `json:"message"`
	Type    string          `json:"type"`
	Param   json.RawMessage `json:"param"`
	Code    json.RawMessage `json:"code"`
	Error   json.RawMessage `json:"error"`
}

// parseError decodes an error body; ok is false when body is not an error.
func parseError(body []byte, status int) (*APIError, bool) {
	var w wireError
	if json.Unmarshal(body, &w) != nil {
		return nil, false
	}
	return w.apiError(status)
}

func (w *wireError) apiError(status int) (*APIError, bool) {
	if len(w.Error) > 0 && string(w.Error) != "null" {
		var s string
		if json.Unmarshal(w.Error, &s) == nil {
			return &APIError{Status: status, Message: s}, true
		}
		var inner wireError
		if json.Unmarshal(w.Error, &inner) != nil {
			return &APIError{Status: status, Message: string(w.Error)}, true
		}
		return inner.flat(status), true
	}
	if w.Object == "error" {
		return w.flat(status), true
	}
	return nil, false
}

func (w *wireError) flat(status int) *APIError {
	e := &APIError{Status: status, Type: w.Type, Message: w.Message,
		Param: rawText(w.Param), Code: rawText(w.Code)}
	if n, err := strconv.Atoi(e.Code); err == nil && n >= 400 && n < 600 &&
		(status == 0 || status == 200) {
		e.Status = n // in-stream or 200-with-error: the code is the real status
	}
	return e
}

// rawText renders a JSON scalar (string, number, null) as text.
func rawText(raw json.RawMessage) string {
	if len(raw) == 0 || string(raw) == "null" {
		return ""
	}
	var s string
	if json.Unmarshal(raw, &s) == nil {
		return s
	}
	return string(raw)
}

// timeoutError wraps ErrTimeout with which limit expired.
func timeoutError(replica, which string, limit fmt.Stringer) error {
	return fmt.Errorf("vllm: %s: %s timeout after %s: %w", replica, which, limit, ErrTimeout)
}
