package web

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/hapa-project/hapa/realtime"
)

// decodeJSON reads r's body as exactly one JSON object into dst. Unknown fields are
// ignored (the original clients send extra ones). Errors are catalogue errors:
// empty body, bad syntax (with the byte offset), a value of the wrong type (naming the
// field), or data after the object → E4001; a body over the size limit → E4010.
// The Content-Type header is not checked: curl -d sends form encoding by default.
func decodeJSON(r *http.Request, dst any) error {
	if r.Body == nil || r.Body == http.NoBody {
		return realtime.NewError(realtime.CodeInvalidInput, "Request body must be a JSON object")
	}
	return decodeJSONFrom(r.Body, dst)
}

// decodeJSONFrom is decodeJSON over any reader (the fuzz target).
func decodeJSONFrom(body io.Reader, dst any) error {
	dec := json.NewDecoder(body)
	if err := dec.Decode(dst); err != nil {
		return jsonError(err)
	}
	// Exactly one value: anything but trailing whitespace is an error.
	var extra json.RawMessage
	switch err := dec.Decode(&extra); {
	case errors.Is(err, io.EOF):
		return nil
	case err == nil:
		return realtime.NewError(realtime.CodeInvalidInput,
			fmt.Sprintf("Invalid JSON: unexpected data after the object at offset %d", dec.InputOffset()-int64(len(extra))))
	default:
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return jsonError(err)
		}
		return realtime.NewError(realtime.CodeInvalidInput, "Invalid JSON: unexpected data after the object")
	}
}

// jsonError maps a json.Decoder error to the catalogue.
func jsonError(err error) error {
	var (
		mbe  *http.MaxBytesError
		syn  *json.SyntaxError
		typ  *json.UnmarshalTypeError
		inv  *json.InvalidUnmarshalError
		body = "Request body must be a JSON object"
	)
	switch {
	case errors.As(err, &mbe):
		return realtime.NewError(realtime.CodePayloadTooLarge,
			fmt.Sprintf("Payload too large: the body exceeds %d bytes", mbe.Limit))
	case errors.Is(err, io.EOF):
		return realtime.NewError(realtime.CodeInvalidInput, body)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return realtime.NewError(realtime.CodeInvalidInput, "Invalid JSON: the body ends in the middle of a value")
	case errors.As(err, &syn):
		return realtime.NewError(realtime.CodeInvalidInput, fmt.Sprintf("Invalid JSON at offset %d", syn.Offset))
	case errors.As(err, &typ):
		if typ.Field == "" {
			return realtime.NewError(realtime.CodeInvalidInput, body)
		}
		msg := fmt.Sprintf("must be %s, not %s", jsonKind(typ.Type.Kind().String()), typ.Value)
		e := realtime.NewError(realtime.CodeInvalidInput, fmt.Sprintf("Invalid type for field %q: %s", typ.Field, msg))
		e.Fields = []realtime.FieldError{{Field: typ.Field, Message: msg, Code: realtime.CodeInvalidInput}}
		return e
	case errors.As(err, &inv):
		return realtime.Wrap(realtime.CodeInternal, fmt.Errorf("web: decode: %w", err))
	default:
		// Other read errors (client went away, invalid UTF-8 handling, …).
		e := realtime.NewError(realtime.CodeInvalidInput, "Invalid JSON body")
		e.Detail = err.Error()
		return e
	}
}

// jsonKind names a Go kind in JSON terms.
func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "bool":
		return "a boolean"
	case "int", "int8", "int16", "int32", "int64", "uint", "uint8", "uint16", "uint32", "uint64":
		return "an integer"
	case "float32", "float64":
		return "a number"
	case "slice", "array":
		return "an array"
	case "map", "struct":
		return "an object"
	default:
		return "a " + k
	}
}

// writeJSON writes v as JSON with status. HTML escaping is off (code in responses
// stays readable); non-ASCII is sent as UTF-8.
func writeJSON(w http.ResponseWriter, status int, v any) {
	buf := jsonBufs.Get().(*bytes.Buffer)
	defer putJSONBuf(buf)
	enc := json.NewEncoder(buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		http.Error(w, `{"detail":"Internal server error","error_code":"E5004"}`, http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

// jsonBufs are writeJSON's encode buffers: a response body is written (copied out)
// before its buffer goes back.
var jsonBufs = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putJSONBuf returns buf to the pool unless a large answer grew it (kept buffers stay
// small).
func putJSONBuf(buf *bytes.Buffer) {
	if buf.Cap() > 64<<10 {
		return
	}
	buf.Reset()
	jsonBufs.Put(buf)
}
