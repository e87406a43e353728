package web

import (
	"testing"
	"time"

	"github.com/hapa-project/hapa/realtime"
)

func TestOpenAIErrorOfEveryCode(t *testing.T) {
	for _, info := range realtime.Catalogue() {
		t.Run(string(info.Code), func(t *testing.T) {
			k, ok := openAIKinds[info.Code]
			if !ok {
				t.Fatal("no OpenAI mapping")
			}
			status, env := openAIErrorOf(realtime.NewError(info.Code, ""), realtime.LangEN)
			want := info.HTTPStatus
			if want == 422 { // OpenAI and vLLM answer invalid parameters with 400
				want = 400
			}
			if status != want || status != k.status {
				t.Errorf("status %d, catalogue %d", status, info.HTTPStatus)
			}
			if env.Error.Message != info.Message || env.Error.Code == nil || *env.Error.Code == "" || env.Error.HAPACode != string(info.Code) {
				t.Errorf("envelope %+v", env.Error)
			}
			wantType := map[int]string{400: "invalid_request_error", 401: "authentication_error", 403: "permission_error",
				404: "invalid_request_error", 409: "invalid_request_error", 413: "invalid_request_error", 429: "rate_limit_error"}[status]
			if status >= 500 {
				wantType = "server_error"
			}
			if env.Error.Type != wantType {
				t.Errorf("type %q, want %q", env.Error.Type, wantType)
			}
		})
	}
}

func TestOpenAIErrorParam(t *testing.T) {
	for _, tc := range []struct {
		err  *realtime.Error
		want any
	}{
		{realtime.NewError(realtime.CodeInternal, ""), nil},
		{realtime.NewError(realtime.CodeNotFound, ""), "model"},
		{&realtime.Error{Code: realtime.CodeOutOfRange, Fields: []realtime.FieldError{{Field: "messages[3].role"}}}, "messages"},
		{&realtime.Error{Code: realtime.CodeMissingField, Fields: []realtime.FieldError{{Field: "prefix"}}}, "prompt"},
		{&realtime.Error{Code: realtime.CodeOutOfRange, Fields: []realtime.FieldError{{Field: "top_p"}}}, "top_p"},
	} {
		_, env := openAIErrorOf(tc.err, realtime.LangEN)
		var got any
		if env.Error.Param != nil {
			got = *env.Error.Param
		}
		if got != tc.want {
			t.Errorf("%v: param %v, want %v", tc.err, got, tc.want)
		}
	}
	_, env := openAIErrorOf(&realtime.Error{Code: realtime.CodeRateLimited, RetryAfter: time.Second, IncidentID: "x"}, realtime.LangEN)
	if env.Error.IncidentID != "x" || *env.Error.Code != "rate_limit_exceeded" {
		t.Errorf("%+v", env.Error)
	}
}
