package admin_test

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/hapa-project/hapa/store"
)

// seed gives the screenshots something to show: a user with a profile, request-log
// traffic over the last hour and a few incidents.
func seed(t *testing.T, srv *e2eServer) {
	t.Helper()
	ctx := context.Background()
	db := srv.DB
	u, err := db.Users().Create(ctx, store.User{Email: "dev@example.com", Name: "Ada Developer"})
	if err != nil {
		t.Fatal(err)
	}
	profile, _ := json.Marshal(map[string]any{"pythonSkillLevel": "advanced", "explanationStyle": "brief",
		"projectContext": "data_science", "preferredLanguageFeatures": []string{"type_hints", "dataclasses"}})
	if _, err := db.Settings().Put(ctx, store.UserSettings{UserID: u.ID, Profile: profile}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().UTC()
	uid := u.ID
	_, key, err := db.APIKeys().Create(ctx, store.NewKey{UserID: &uid, Name: "ada's editor",
		Scopes: store.Scopes{store.ScopeCodeGeneration, store.ScopeCodeCompletion}, TokensPerDay: 500000})
	if err != nil {
		t.Fatal(err)
	}
	var rows []store.RequestLogRow
	for i := range 240 {
		r := store.RequestLogRow{CreatedAt: now.Add(-time.Duration(i*i%3600) * time.Second), UserID: &uid, KeyID: &key.ID,
			RequestID: fmt.Sprintf("req-seed-%03d", i), Route: "POST /api/v1/code/generate",
			Kind: "generation", Adapter: "prompt", TokensIn: 120, TokensOut: 80 + i%50,
			UpstreamIn: 120, UpstreamOut: 80 + i%50, Upstream: "http://vllm-0.vllm:8000",
			TTFTMs: float64(35 + i%20), LatencyMs: float64(400 + (i*37)%900), Status: 200, Cached: i%4 == 0}
		if i%7 == 0 {
			r.Route, r.Kind, r.Adapter = "WS completion", "completion", "completion"
		}
		if r.Cached {
			r.UpstreamIn, r.UpstreamOut, r.Upstream, r.TTFTMs, r.LatencyMs = 0, 0, "", 0.2, 0.4
		}
		if i%23 == 0 {
			r.Status, r.ErrorCode = 504, "E5001"
		}
		if i%31 == 0 {
			r.Status, r.ErrorCode = 429, "E4009"
		}
		rows = append(rows, r)
	}
	for i := range 4 { // the requests of the incidents below
		rows = append(rows, store.RequestLogRow{CreatedAt: now.Add(-time.Duration(i+1) * time.Hour), UserID: &uid, KeyID: &key.ID,
			RequestID: "req-e2e-" + string(rune('a'+i)), Route: "POST /api/v1/code/generate", Kind: "generation",
			Adapter: "prompt", Upstream: "http://vllm-1.vllm:8000", TTFTMs: 0, LatencyMs: 30000, Status: 504, ErrorCode: "E5001"})
	}
	if err := db.RequestLog().InsertBatch(ctx, rows); err != nil {
		t.Fatal(err)
	}
	seedCompletionEvents(t, db, now, key.ID, uid)
	for i, c := range []struct {
		code, msg string
		status    int
		ago       time.Duration
	}{
		{"E5001", "AI model timeout", 504, 5 * time.Minute},
		{"E5005", "AI model unavailable (no healthy replica)", 503, 3 * time.Hour},
		{"E5001", "AI model timeout", 504, 9 * time.Hour},
		{"E5006", "AI model returned an error", 502, 20 * time.Hour},
	} {
		at := now.Add(-c.ago)
		if _, err := db.Incidents().Insert(ctx, store.Incident{ID: store.NewIncidentID(at), Code: c.code, CreatedAt: at,
			Path: "/api/v1/code/generate", RequestID: "req-e2e-" + string(rune('a'+i)), Message: c.msg,
			Detail: "upstream http://sim: first-token deadline exceeded", Status: "open", HTTPStatus: c.status}); err != nil {
			t.Fatal(err)
		}
	}
}

// seedCompletionEvents reports what the editor did with 360 completions over the last
// day: every one shown, about a third accepted (more in Python than elsewhere), most
// of the rest dismissed.
func seedCompletionEvents(t *testing.T, db *store.DB, now time.Time, keyID, userID int64) {
	t.Helper()
	langs := []string{"python", "python", "typescript", "go", "rust"}
	var evs []store.CompletionEvent
	for i := range 360 {
		made := now.Add(-time.Duration(i*4) * time.Minute)
		id := fmt.Sprintf("cmpl-seed-%03d", i)
		lang := langs[i%len(langs)]
		ev := func(event string, after time.Duration) store.CompletionEvent {
			return store.CompletionEvent{CompletionID: id, Event: event, CreatedAt: made.Add(after), CompletionAt: made,
				LatencyMs: float64(after.Milliseconds()), KeyID: &keyID, UserID: &userID, Language: lang,
				Adapter: "autocomplete", ModelFamily: "deepseek-coder"}
		}
		evs = append(evs, ev("shown", 120*time.Millisecond))
		switch {
		case i%3 == 0 || (lang == "python" && i%4 == 1):
			a := ev("accepted", time.Duration(700+i%9*150)*time.Millisecond)
			chars := 20 + i%60
			a.AcceptedChars = &chars
			evs = append(evs, a)
		case i%5 != 2:
			evs = append(evs, ev("dismissed", 2*time.Second))
		}
	}
	if err := db.CompletionEvents().InsertBatch(context.Background(), evs); err != nil {
		t.Fatal(err)
	}
}
