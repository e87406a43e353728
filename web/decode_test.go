package web

import (
	"errors"
	"strings"
	"testing"

	"github.com/hapa-project/hapa/realtime"
)

type decodeTarget struct {
	Prompt    string            `json:"prompt"`
	MaxTokens int               `json:"max_tokens"`
	Temp      *float64          `json:"temperature"`
	Tags      []string          `json:"tags"`
	Meta      map[string]string `json:"meta"`
	Inner     struct {
		Level string `json:"level"`
	} `json:"inner"`
}

func TestDecodeJSON(t *testing.T) {
	cases := []struct {
		name, body string
		code       realtime.Code
		field      string
		contains   string
	}{
		{"ok with unknown fields", `{"prompt":"hi","extra":{"a":[1,2]},"max_tokens":5}`, "", "", ""},
		{"ok trailing whitespace", "{\"prompt\":\"hi\"}\n\t ", "", "", ""},
		{"empty", ``, realtime.CodeInvalidInput, "", "JSON object"},
		{"whitespace only", "  \n", realtime.CodeInvalidInput, "", "JSON object"},
		{"not json", `prompt=hi`, realtime.CodeInvalidInput, "", "offset 1"},
		{"truncated", `{"prompt":"hi"`, realtime.CodeInvalidInput, "", "ends"},
		{"syntax offset", `{"prompt": hi}`, realtime.CodeInvalidInput, "", "offset"},
		{"array top level", `[1,2]`, realtime.CodeInvalidInput, "", "JSON object"},
		{"string top level", `"x"`, realtime.CodeInvalidInput, "", "JSON object"},
		{"wrong type", `{"max_tokens":"5"}`, realtime.CodeInvalidInput, "max_tokens", "an integer"},
		{"float for int", `{"max_tokens":1.5}`, realtime.CodeInvalidInput, "max_tokens", ""},
		{"nested wrong type", `{"inner":{"level":3}}`, realtime.CodeInvalidInput, "inner.level", "a string"},
		{"array elem wrong type", `{"tags":["a",1]}`, realtime.CodeInvalidInput, "tags", ""},
		{"trailing garbage", `{"prompt":"a"} x`, realtime.CodeInvalidInput, "", "after"},
		{"two objects", `{"prompt":"a"}{"prompt":"b"}`, realtime.CodeInvalidInput, "", "after"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var dst decodeTarget
			err := decodeJSONFrom(strings.NewReader(tc.body), &dst)
			if tc.code == "" {
				if err != nil {
					t.Fatalf("unexpected error %v", err)
				}
				return
			}
			var e *realtime.Error
			if !errors.As(err, &e) || e.Code != tc.code {
				t.Fatalf("err = %v, want %s", err, tc.code)
			}
			if tc.field != "" && (len(e.Fields) == 0 || !strings.HasPrefix(e.Fields[0].Field, tc.field)) {
				t.Errorf("fields = %+v, want %s", e.Fields, tc.field)
			}
			if !strings.Contains(e.Message, tc.contains) && !(len(e.Fields) > 0 && strings.Contains(e.Fields[0].Message, tc.contains)) {
				t.Errorf("message %q lacks %q", e.Message, tc.contains)
			}
		})
	}
}

func TestValidator(t *testing.T) {
	var v validator
	if v.err() != nil {
		t.Fatal("empty validator fails")
	}
	v.requiredString("prompt", "  ")
	v.intRange("max_tokens", 0, 1, 4096)
	v.floatRange("temperature", 2.5, 0, 2)
	v.maxLen("context", "가나다", 2)
	v.oneOf("model_type", "nope", "a", "b")
	err := v.err()
	var e *realtime.Error
	if !errors.As(err, &e) || e.Code != realtime.CodeMissingField || len(e.Fields) != 5 {
		t.Fatalf("err = %v (%+v)", err, e)
	}
	if e.Fields[1].Code != realtime.CodeOutOfRange || !strings.Contains(e.Message, "prompt") {
		t.Errorf("fields %+v message %q", e.Fields, e.Message)
	}
	var w validator
	w.intRange("limit", 500, 1, 100)
	if e := realtime.AsError(w.err()); e.Code != realtime.CodeOutOfRange || e.Status() != 422 {
		t.Errorf("range only: %v", e)
	}
}

// FuzzDecodeJSON checks that no body makes the decoder panic, and that every failure
// is a client error with a catalogue code (never E5004).
func FuzzDecodeJSON(f *testing.F) {
	for _, s := range []string{`{"prompt":"hi","max_tokens":3}`, `{"temperature":0.2,"tags":["a"]}`, `{`, `[]`, `{"inner":{"level":"x"}} `, `{"a":1}{}`, "\xff", `{"prompt":"\ud800"}`, `{"max_tokens":1e400}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, body []byte) {
		var dst decodeTarget
		err := decodeJSONFrom(strings.NewReader(string(body)), &dst)
		if err == nil {
			return
		}
		var e *realtime.Error
		if !errors.As(err, &e) {
			t.Fatalf("not a catalogue error: %v", err)
		}
		if e.Code != realtime.CodeInvalidInput {
			t.Fatalf("code %s for %q: %v", e.Code, body, err)
		}
		if e.Message == "" {
			t.Fatal("empty message")
		}
	})
}
