package ws

import (
	"encoding/json"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/hapa-project/hapa/realtime"
)

func TestDecodeClientEvent(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		code    realtime.Code // "" means accepted
		eventID string
		check   func(t *testing.T, ev ClientEvent)
	}{
		{name: "ping", in: `{"type":"ping","event_id":"e1"}`, eventID: "e1"},
		{name: "session.update", in: `{"type":"session.update","workspace":"/src/app","editor":{"name":"vscode","version":"1.96"},"profile":{"pythonSkillLevel":"expert"}}`,
			check: func(t *testing.T, ev ClientEvent) {
				if *ev.Workspace != "/src/app" || ev.Editor.Name != "vscode" || ev.Profile.PythonSkillLevel != "expert" {
					t.Errorf("got %+v", ev)
				}
			}},
		{name: "completion.create", in: `{"type":"completion.create","id":"c1","prefix":"def f(","suffix":")","language":"python","file_path":"a.py","max_tokens":32,"temperature":0.2,"stop":["\n\n"],"replace":true}`,
			check: func(t *testing.T, ev ClientEvent) {
				if ev.ID != "c1" || ev.Prefix != "def f(" || ev.Suffix != ")" || ev.MaxTokens != 32 || *ev.Temperature != 0.2 ||
					len(ev.Stop) != 1 || !ev.Replace || ev.FilePath != "a.py" {
					t.Errorf("got %+v", ev)
				}
			}},
		{name: "stop as one string", in: `{"type":"completion.create","id":"c1","prefix":"x","stop":"\n"}`,
			check: func(t *testing.T, ev ClientEvent) {
				if len(ev.Stop) != 1 || ev.Stop[0] != "\n" {
					t.Errorf("stop = %q", ev.Stop)
				}
			}},
		{name: "generation.create", in: `{"type":"generation.create","id":"g1","prompt":"sort a list","model_type":"bug_fix","context":"x = 1","top_p":0.9,"profile":{"explanationStyle":"brief"}}`,
			check: func(t *testing.T, ev ClientEvent) {
				if ev.Prompt != "sort a list" || ev.ModelType != "bug_fix" || ev.Context != "x = 1" || *ev.TopP != 0.9 || ev.Profile.ExplanationStyle != "brief" {
					t.Errorf("got %+v", ev)
				}
			}},
		{name: "unknown fields ignored", in: `{"type":"ping","future":{"a":[1,2]}}`},
		{name: "stream.cancel", in: `{"type":"stream.cancel","id":"g1"}`},
		{name: "leading whitespace", in: " \n{\"type\":\"ping\"}"},
		{name: "not JSON", in: `hello`, code: realtime.CodeInvalidInput},
		{name: "empty", in: ``, code: realtime.CodeInvalidInput},
		{name: "array", in: `[{"type":"ping"}]`, code: realtime.CodeInvalidInput},
		{name: "truncated", in: `{"type":"ping"`, code: realtime.CodeInvalidInput},
		{name: "wrong type keeps event_id", in: `{"type":"completion.create","event_id":"e9","id":"c","prefix":"x","max_tokens":"many"}`, code: realtime.CodeInvalidInput, eventID: "e9"},
		{name: "stop of numbers", in: `{"type":"completion.create","id":"c","prefix":"x","stop":[1]}`, code: realtime.CodeInvalidInput},
		{name: "type not a string", in: `{"type":5}`, code: realtime.CodeInvalidInput},
		{name: "missing type", in: `{"id":"x"}`, code: realtime.CodeMissingField},
		{name: "unknown type", in: `{"type":"completion.delete","event_id":"e2"}`, code: realtime.CodeInvalidInput, eventID: "e2"},
		{name: "create without id", in: `{"type":"generation.create","prompt":"x"}`, code: realtime.CodeMissingField},
		{name: "cancel without id", in: `{"type":"stream.cancel"}`, code: realtime.CodeMissingField},
		{name: "id too long", in: `{"type":"stream.cancel","id":"` + strings.Repeat("x", 129) + `"}`, code: realtime.CodeInvalidInput},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ev, err := DecodeClientEvent([]byte(tt.in))
			switch {
			case tt.code == "" && err != nil:
				t.Fatalf("unexpected error %v", err)
			case tt.code != "" && (err == nil || err.Code != tt.code):
				t.Fatalf("error = %v, want %s", err, tt.code)
			}
			if ev.EventID != tt.eventID {
				t.Errorf("event_id = %q, want %q", ev.EventID, tt.eventID)
			}
			if tt.check != nil {
				tt.check(t, ev)
			}
		})
	}
}

func TestServerFrames(t *testing.T) {
	tests := []struct {
		name string
		got  []byte
		want string
	}{
		{"started", startedFrame("g1", realtime.KindGeneration, realtime.StreamInfo{Model: "prompt", Coalesced: true}),
			`{"type":"stream.started","id":"g1","kind":"generation","model":"prompt","cached":false,"coalesced":true}`},
		{"delta keeps empty-looking text", deltaFrame("g1", 3, " "), `{"type":"stream.delta","id":"g1","seq":3,"text":" "}`},
		{"done", doneFrame("g1", realtime.Done{FinishReason: "length"}),
			`{"type":"stream.done","id":"g1","finish_reason":"length","usage":{"prompt_tokens":0,"completion_tokens":0,"total_tokens":0},"ttft_ms":0,"latency_ms":0,"cached":false}`},
		{"stream.error", streamErrorFrame("g1", &realtime.Error{Code: realtime.CodeRateLimited, Message: "slow down", RetryAfter: 1500e6}, nil),
			`{"type":"stream.error","id":"g1","error":{"code":"E4004","message":"slow down","retryable":true,"retry_after_ms":1500}}`},
		{"error echoes event_id", errorFrame("e1", realtime.NewError(realtime.CodeConflict, "dup")),
			`{"type":"error","event_id":"e1","error":{"code":"E4012","message":"dup","retryable":false}}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if string(tt.got) != tt.want {
				t.Errorf("got  %s\nwant %s", tt.got, tt.want)
			}
		})
	}
}

func TestTruncate(t *testing.T) {
	for _, s := range []string{"héllo wörld", strings.Repeat("€", 50), "ascii only"} {
		for n := 0; n < len(s)+2; n++ {
			got := truncate(s, n)
			if len(got) > n || !utf8.ValidString(got) || !strings.HasPrefix(s, got) {
				t.Fatalf("truncate(%q, %d) = %q", s, n, got)
			}
		}
	}
}

func FuzzDecodeClientEvent(f *testing.F) {
	for _, s := range []string{`{"type":"ping"}`, `{"type":"completion.create","id":"c1","prefix":"x","stop":"\n"}`,
		`{"type":"generation.create","id":"g","prompt":"p","profile":{"preferredLanguageFeatures":["f_strings"]}}`,
		`{"type":"session.update","workspace":"/w"}`, `{"type":"stream.cancel","id":"x"}`, `{"type":1}`, `[`, ``,
		`{"type":"completion.create","id":"c","max_tokens":1e99}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := DecodeClientEvent(b)
		if err != nil {
			if err.Code != realtime.CodeInvalidInput && err.Code != realtime.CodeMissingField {
				t.Fatalf("code %s", err.Code)
			}
			_ = errorFrame(ev.EventID, err) // must encode
			return
		}
		switch ev.Type {
		case EventCompletionCreate, EventGenerationCreate, EventStreamCancel:
			if ev.ID == "" || len(ev.ID) > maxIDLen {
				t.Fatalf("accepted id %q", ev.ID)
			}
		case EventSessionUpdate, EventPing:
		default:
			t.Fatalf("accepted type %q", ev.Type)
		}
		if _, err := json.Marshal(ev); err != nil {
			t.Fatalf("re-encode: %v", err)
		}
	})
}
