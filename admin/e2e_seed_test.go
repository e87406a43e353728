package admin_test

import (
	"context"
	"encoding/json"
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
	var rows []store.RequestLogRow
	for i := range 240 {
		r := store.RequestLogRow{CreatedAt: now.Add(-time.Duration(i*i%3600) * time.Second), UserID: &uid,
			Kind: "generation", Adapter: "prompt", TokensIn: 120, TokensOut: 80 + i%50,
			TTFTMs: float64(35 + i%20), LatencyMs: float64(400 + (i*37)%900), Status: 200, Cached: i%4 == 0}
		if i%23 == 0 {
			r.Status, r.ErrorCode = 504, "E5001"
		}
		rows = append(rows, r)
	}
	if err := db.RequestLog().InsertBatch(ctx, rows); err != nil {
		t.Fatal(err)
	}
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
