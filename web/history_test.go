package web

import (
	"encoding/json"
	"testing"
)

func TestHistoryFlow(t *testing.T) {
	env := newEnv(t, selfSignup)
	tok := env.login("hist@example.com")
	auth := bearer(tok)

	// As the extension: one session per Q&A, then a question and an answer entry.
	r := env.do("POST", "/history/sessions", map[string]any{"session_title": "HAPA Session 2026. 12. 1.",
		"primary_language": "python", "tags": []string{"vscode", "hapa"}, "project_name": "demo"}, auth...)
	if r.StatusCode != 200 {
		t.Fatalf("create session: %d %s", r.StatusCode, r.body)
	}
	sess := r.json(t)
	sid, _ := sess["session_id"].(string)
	if len(sid) != len("session_")+8 || sid[:8] != "session_" || sess["status"] != "active" || sess["total_entries"] != float64(0) ||
		sess["timestamp"] == nil || sess["user_id"] == nil || len(sess["tags"].([]any)) != 2 {
		t.Fatalf("session = %s", r.body)
	}
	for _, e := range []map[string]any{
		{"session_id": sid, "conversation_type": "question", "content": "write fibonacci", "language": "python"},
		{"session_id": sid, "conversation_type": "answer", "content": "def fib(n): ...", "code_snippet": "```python\ndef fib(n): ...\n```",
			"response_time": 1.25, "confidence_score": 0.9, "file_name": "main.py", "line_number": 3},
	} {
		r := env.do("POST", "/history/entries", e, auth...)
		m := r.json(t)
		if r.StatusCode != 200 || m["success"] != true || m["session_id"] != sid || len(m["entry_id"].(string)) != len("entry_")+8 || m["timestamp"] == nil {
			t.Fatalf("add entry: %d %s", r.StatusCode, r.body)
		}
	}

	var sessions []map[string]any
	if err := json.Unmarshal(env.do("GET", "/history/sessions?limit=50", nil, auth...).body, &sessions); err != nil {
		t.Fatal(err)
	}
	if len(sessions) != 1 || sessions[0]["total_entries"] != float64(2) || sessions[0]["question_count"] != float64(1) || sessions[0]["answer_count"] != float64(1) {
		t.Fatalf("sessions = %v", sessions)
	}

	var entries []map[string]any
	if err := json.Unmarshal(env.do("GET", "/history/sessions/"+sid+"?limit=50", nil, auth...).body, &entries); err != nil {
		t.Fatal(err)
	}
	if len(entries) != 2 || entries[0]["conversation_type"] != "answer" || entries[1]["content"] != "write fibonacci" ||
		entries[0]["confidence_score"] != 0.9 || entries[0]["timestamp"] == nil || entries[1]["line_number"] != nil {
		t.Fatalf("entries = %v", entries)
	}

	stats := env.do("GET", "/history/stats", nil, auth...).json(t)
	for k, want := range map[string]float64{"total_sessions": 1, "active_sessions": 1, "total_entries": 2, "total_questions": 1,
		"total_answers": 1, "sessions_today": 1, "sessions_this_week": 1, "average_session_length": 2} {
		if stats[k] != want {
			t.Errorf("stats.%s = %v, want %v", k, stats[k], want)
		}
	}
	if stats["language_distribution"].(map[string]any)["python"] != float64(1) {
		t.Errorf("language_distribution = %v", stats["language_distribution"])
	}

	var found []map[string]any
	r = env.do("POST", "/history/search", map[string]any{"query": "FIBONACCI", "limit": 10}, auth...)
	if err := json.Unmarshal(r.body, &found); err != nil || len(found) != 1 || found[0]["conversation_type"] != "question" {
		t.Fatalf("search: %s", r.body)
	}
	r = env.do("POST", "/history/search", map[string]any{"query": "fib", "conversation_type": "answer", "session_ids": []string{sid},
		"date_from": "2000-01-01", "date_to": "2999-01-01T00:00:00"}, auth...)
	if err := json.Unmarshal(r.body, &found); err != nil || len(found) != 1 || found[0]["conversation_type"] != "answer" {
		t.Fatalf("filtered search: %s", r.body)
	}

	if r := env.do("GET", "/history/health", nil); r.StatusCode != 200 || r.json(t)["service"] != "history" {
		t.Errorf("history health: %d %s", r.StatusCode, r.body)
	}

	r = env.do("DELETE", "/history/sessions/"+sid, nil, auth...)
	del := r.json(t)
	if r.StatusCode != 200 || del["success"] != true || del["deleted_entries"] != float64(2) || del["deleted_sessions"] != float64(1) || del["session_id"] != sid {
		t.Fatalf("delete: %d %s", r.StatusCode, r.body)
	}
	checkError(t, env.do("GET", "/history/sessions/"+sid, nil, auth...), 404, "E4011")
	checkError(t, env.do("DELETE", "/history/sessions/"+sid, nil, auth...), 404, "E4011")
}

func TestHistoryIsolation(t *testing.T) {
	env := newEnv(t, selfSignup)
	a, b := bearer(env.login("a@example.com")), bearer(env.login("b@example.com"))
	sid := env.do("POST", "/history/sessions", map[string]any{}, a...).json(t)["session_id"].(string)
	if r := env.do("POST", "/history/entries", map[string]any{"session_id": sid, "conversation_type": "question", "content": "secret"}, a...); r.StatusCode != 200 {
		t.Fatal(r.StatusCode)
	}
	checkError(t, env.do("GET", "/history/sessions/"+sid, nil, b...), 404, "E4011")
	checkError(t, env.do("DELETE", "/history/sessions/"+sid, nil, b...), 404, "E4011")
	checkError(t, env.do("POST", "/history/entries", map[string]any{"session_id": sid, "conversation_type": "answer", "content": "x"}, b...), 404, "E4011")
	if r := env.do("GET", "/history/sessions", nil, b...); string(r.body) != "[]\n" {
		t.Errorf("B lists %s", r.body)
	}
	if r := env.do("POST", "/history/search", map[string]any{"query": "secret"}, b...); string(r.body) != "[]\n" {
		t.Errorf("B finds %s", r.body)
	}
	if m := env.do("GET", "/history/stats", nil, b...).json(t); m["total_sessions"] != float64(0) {
		t.Errorf("B stats %v", m)
	}
	// A's session survived B's attempts.
	if r := env.do("GET", "/history/sessions/"+sid, nil, a...); r.StatusCode != 200 {
		t.Errorf("A lost the session: %d", r.StatusCode)
	}
}

func TestHistoryBadInput(t *testing.T) {
	env := newEnv(t, selfSignup)
	auth := bearer(env.login("v@example.com"))
	sid := env.do("POST", "/history/sessions", map[string]any{}, auth...).json(t)["session_id"].(string)
	noHistory, _ := env.newKey(nil, nil, "code_generation")
	uid := env.newUser("keyuser@example.com")
	codeOnly, _ := env.newKey(&uid, nil, "code_generation")
	orphan, _ := env.newKey(nil, nil, "history")
	cases := []struct {
		name, method, path string
		body               any
		hdr                []string
		status             int
		code               string
	}{
		{"no auth", "GET", "/history/sessions", nil, nil, 401, "E4003"},
		{"key without history scope", "GET", "/history/sessions", nil, []string{"X-API-Key", codeOnly}, 403, "E4005"},
		{"key without user or scope", "GET", "/history/sessions", nil, []string{"X-API-Key", noHistory}, 403, "E4005"},
		{"key without user", "GET", "/history/sessions", nil, []string{"X-API-Key", orphan}, 403, "E4005"},
		{"limit 0", "GET", "/history/sessions?limit=0", nil, auth, 422, "E4008"},
		{"limit 101", "GET", "/history/sessions?limit=101", nil, auth, 422, "E4008"},
		{"limit abc", "GET", "/history/sessions?limit=abc", nil, auth, 400, "E4001"},
		{"entries limit 201", "GET", "/history/sessions/" + sid + "?limit=201", nil, auth, 422, "E4008"},
		{"unknown session", "GET", "/history/sessions/session_00000000", nil, auth, 404, "E4011"},
		{"session not JSON", "POST", "/history/sessions", "{", auth, 400, "E4001"},
		{"session tags wrong type", "POST", "/history/sessions", map[string]any{"tags": "a,b"}, auth, 400, "E4001"},
		{"session title too long", "POST", "/history/sessions", map[string]any{"session_title": string(make([]byte, 201))}, auth, 422, "E4008"},
		{"entry missing fields", "POST", "/history/entries", map[string]any{"content": "x"}, auth, 400, "E4002"},
		{"entry missing content", "POST", "/history/entries", map[string]any{"session_id": sid, "conversation_type": "question"}, auth, 400, "E4002"},
		{"entry bad type", "POST", "/history/entries", map[string]any{"session_id": sid, "conversation_type": "chat", "content": "x"}, auth, 422, "E4008"},
		{"entry confidence", "POST", "/history/entries", map[string]any{"session_id": sid, "conversation_type": "answer", "content": "x", "confidence_score": 2}, auth, 422, "E4008"},
		{"entry line number type", "POST", "/history/entries", map[string]any{"session_id": sid, "conversation_type": "answer", "content": "x", "line_number": "3"}, auth, 400, "E4001"},
		{"entry unknown session", "POST", "/history/entries", map[string]any{"session_id": "session_ffffffff", "conversation_type": "answer", "content": "x"}, auth, 404, "E4011"},
		{"search missing query", "POST", "/history/search", map[string]any{"limit": 5}, auth, 400, "E4002"},
		{"search limit", "POST", "/history/search", map[string]any{"query": "x", "limit": 0}, auth, 422, "E4008"},
		{"search bad date", "POST", "/history/search", map[string]any{"query": "x", "date_from": "yesterday"}, auth, 422, "E4008"},
		{"wrong method", "PUT", "/history/sessions", nil, auth, 405, "E4001"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := checkError(t, env.do(tc.method, tc.path, tc.body, tc.hdr...), tc.status, tc.code)
			if tc.status == 400 || tc.status == 422 {
				if tc.code != "E4001" || tc.name != "session not JSON" {
					if d, _ := m["details"].([]any); len(d) == 0 && tc.name != "session not JSON" {
						t.Errorf("no field details: %v", m)
					}
				}
			}
		})
	}
}
