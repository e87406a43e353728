package web

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"

	"github.com/hapa-project/hapa/realtime"
)

func selfSignup(c *Config, _ *Deps) { c.SelfSignup = true }

// login signs in through the extension's route and returns the access token.
func (e *testEnv) login(email string) string {
	e.t.Helper()
	r := e.do("POST", "/api/v1/users/login", map[string]any{"email": email, "username": strings.Split(email, "@")[0]})
	if r.StatusCode != 200 {
		e.t.Fatalf("login %s: %d %s", email, r.StatusCode, r.body)
	}
	m := r.json(e.t)
	if m["token_type"] != "bearer" || m["access_token"] == "" || m["refresh_token"] == "" || m["expires_in"] != float64(1800) {
		e.t.Fatalf("login body %s", r.body)
	}
	return m["access_token"].(string)
}

func bearer(tok string) []string { return []string{"Authorization", "Bearer " + tok} }

func TestOnboardingFlow(t *testing.T) {
	env := newEnv(t, selfSignup)
	tok := env.login("dev@example.com")

	// Profile with the onboarding names; settings_mapping (v1 ids) fills only what
	// profile_data leaves out (project_context 14 = data_science is overridden).
	r := env.do("POST", "/api/v1/users/profile", map[string]any{
		"profile_data": map[string]any{
			"email": "dev@example.com", "username": "dev", "skillLevel": "beginner", "outputStructure": "detailed",
			"explanationStyle": "educational", "projectContext": "web_development", "errorHandling": "robust",
			"languageFeatures": []string{"type_hints", "dataclasses", "type_hints"}, "commentTriggerMode": "sidebar",
		},
		"settings_mapping": []int{1, 7, 12, 14, 18, 21, 27},
	}, bearer(tok)...)
	if r.StatusCode != 200 {
		t.Fatalf("profile: %d %s", r.StatusCode, r.body)
	}
	m := r.json(t)
	if m["message"] != "프로필이 성공적으로 저장되었습니다." {
		t.Errorf("message = %v", m["message"])
	}
	p := m["profile"].(map[string]any)
	want := map[string]any{"pythonSkillLevel": "beginner", "codeOutputStructure": "detailed", "explanationStyle": "educational",
		"projectContext": "web_development", "errorHandlingPreference": "production_ready", "commentTriggerMode": "sidebar"}
	for k, v := range want {
		if p[k] != v {
			t.Errorf("profile.%s = %v, want %v", k, p[k], v)
		}
	}
	if fmt.Sprint(p["preferredLanguageFeatures"]) != "[type_hints dataclasses]" {
		t.Errorf("features = %v", p["preferredLanguageFeatures"])
	}

	// Stored as a realtime.Profile the engine can read.
	me := env.do("GET", "/api/v1/users/me", nil, bearer(tok)...).json(t)
	if me["email"] != "dev@example.com" || me["username"] != "dev" || me["id"] == nil {
		t.Fatalf("me = %v", me)
	}
	st, err := env.db.Settings().Get(context.Background(), int64(me["id"].(float64)))
	if err != nil {
		t.Fatal(err)
	}
	var rp realtime.Profile
	if err := json.Unmarshal(st.Profile, &rp); err != nil || rp.ErrorHandlingPreference != "production_ready" || rp.PythonSkillLevel != "beginner" {
		t.Errorf("stored profile %s (%v)", st.Profile, err)
	}
	if fmt.Sprint(st.OptionIDs) != "[1 5 9]" {
		t.Errorf("stored option ids = %v", st.OptionIDs)
	}

	// API key for the extension.
	r = env.do("POST", "/api/v1/users/generate-api-key", map[string]any{"email": "dev@example.com", "username": "dev"}, bearer(tok)...)
	if r.StatusCode != 200 {
		t.Fatalf("generate-api-key: %d %s", r.StatusCode, r.body)
	}
	k := r.json(t)
	key, _ := k["api_key"].(string)
	if !strings.HasPrefix(key, "hapa_") || k["user_id"] != "dev@example.com" || k["expires_in_days"] != float64(90) ||
		fmt.Sprint(k["permissions"]) != "[code_generation code_completion history]" || k["message"] == "" {
		t.Fatalf("generate-api-key body %s", r.body)
	}

	// Settings page: v2 ids derived from the profile, then replaced.
	r = env.do("GET", "/api/v1/users/settings", nil, bearer(tok)...)
	if got := string(r.body); !strings.Contains(got, `{"id":1,"setting_type":"python_skill_level","option_value":"beginner"}`) ||
		!strings.Contains(got, `"id":5`) || !strings.Contains(got, `"id":9`) {
		t.Errorf("settings = %s", got)
	}
	r = env.do("POST", "/api/v1/users/settings", map[string]any{"option_ids": []int{7, 2, 4}}, bearer(tok)...)
	if r.StatusCode != 200 || r.json(t)["message"] != "설정이 성공적으로 업데이트되었습니다." {
		t.Fatalf("settings POST: %d %s", r.StatusCode, r.body)
	}
	var sel []settingOption
	if err := json.Unmarshal(env.do("GET", "/api/v1/users/settings", nil, bearer(tok)...).body, &sel); err != nil {
		t.Fatal(err)
	}
	if fmt.Sprint(sel) != "[{2 python_skill_level intermediate} {4 code_output_structure standard} {7 explanation_style standard}]" {
		t.Errorf("after update: %v", sel)
	}
	// Fields outside catalogue v2 survive a settings update.
	prof, _ := env.srv.loadProfile(context.Background(), int64(me["id"].(float64)))
	if prof.ProjectContext != "web_development" || prof.CommentTriggerMode != "sidebar" {
		t.Errorf("profile after settings update: %+v", prof)
	}

	// The key works: as the extension uses it.
	if r := env.do("GET", "/api/v1/users/me", nil, "X-API-Key", key); r.StatusCode != 200 || r.json(t)["email"] != "dev@example.com" {
		t.Errorf("me with key: %d %s", r.StatusCode, r.body)
	}
	if r := env.do("GET", "/history/sessions", nil, "X-API-Key", key); r.StatusCode != 200 || string(r.body) != "[]\n" {
		t.Errorf("history with key: %d %s", r.StatusCode, r.body)
	}
}

func TestProfileCamelCaseNames(t *testing.T) {
	env := newEnv(t, selfSignup)
	tok := env.login("camel@example.com")
	r := env.do("POST", "/api/v1/users/profile", map[string]any{"profile_data": map[string]any{
		"pythonSkillLevel": "Expert", "codeOutputStructure": "comprehensive", "errorHandlingPreference": "detailed",
		"preferredLanguageFeatures": []string{"generators"},
	}}, bearer(tok)...)
	if r.StatusCode != 200 {
		t.Fatalf("%d %s", r.StatusCode, r.body)
	}
	p := r.json(t)["profile"].(map[string]any)
	if p["pythonSkillLevel"] != "expert" || p["codeOutputStructure"] != "comprehensive" || p["errorHandlingPreference"] != "comprehensive" {
		t.Errorf("profile = %v", p)
	}
	// No v2 option for expert/comprehensive: nothing selected for those types.
	if r := env.do("GET", "/settings/me", nil, bearer(tok)...); string(r.body) != "[]\n" {
		t.Errorf("settings/me = %s", r.body)
	}
}

func TestProfileBadInput(t *testing.T) {
	env := newEnv(t, selfSignup)
	tok := env.login("bad@example.com")
	_, _ = env.newKey(nil, nil, "code_generation")
	orphan, _ := env.newKey(nil, nil, "code_generation", "history")
	cases := []struct {
		name   string
		body   any
		hdr    []string
		status int
		code   string
		field  string
	}{
		{"no auth", map[string]any{"profile_data": map[string]any{}}, nil, 401, "E4003", ""},
		{"key without user", map[string]any{"profile_data": map[string]any{}}, []string{"X-API-Key", orphan}, 403, "E4005", ""},
		{"not JSON", "profile", bearer(tok), 400, "E4001", ""},
		{"missing profile_data", map[string]any{"settings_mapping": []int{1}}, bearer(tok), 400, "E4002", "profile_data"},
		{"wrong type", map[string]any{"profile_data": map[string]any{"skillLevel": 3}}, bearer(tok), 400, "E4001", "profile_data.skillLevel"},
		{"mapping wrong type", map[string]any{"profile_data": map[string]any{}, "settings_mapping": "1,2"}, bearer(tok), 400, "E4001", "settings_mapping"},
		{"bad enum", map[string]any{"profile_data": map[string]any{"skillLevel": "guru"}}, bearer(tok), 422, "E4008", "profile_data.skillLevel"},
		{"bad feature", map[string]any{"profile_data": map[string]any{"languageFeatures": []string{"goto"}}}, bearer(tok), 422, "E4008", "profile_data.languageFeatures"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			m := checkError(t, env.do("POST", "/api/v1/users/profile", tc.body, tc.hdr...), tc.status, tc.code)
			if tc.field != "" {
				d, _ := m["details"].([]any)
				if len(d) == 0 || d[0].(map[string]any)["field"] != tc.field {
					t.Errorf("details = %v, want field %s", m["details"], tc.field)
				}
			}
		})
	}
}

func TestSettingsBadInput(t *testing.T) {
	env := newEnv(t, selfSignup)
	tok := env.login("s@example.com")
	cases := []struct {
		name   string
		body   any
		status int
		code   string
		field  string
	}{
		{"unknown id", map[string]any{"option_ids": []int{2, 10}}, 422, "E4008", "option_ids[1]"},
		{"zero id", map[string]any{"option_ids": []int{0}}, 422, "E4008", "option_ids[0]"},
		{"two of one type", map[string]any{"option_ids": []int{1, 2}}, 422, "E4008", "option_ids[1]"},
		{"missing", map[string]any{}, 400, "E4002", "option_ids"},
		{"wrong type", map[string]any{"option_ids": []string{"1"}}, 400, "E4001", "option_ids"},
	}
	for _, path := range []string{"/api/v1/users/settings", "/settings/me"} {
		for _, tc := range cases {
			t.Run(path+" "+tc.name, func(t *testing.T) {
				m := checkError(t, env.do("POST", path, tc.body, bearer(tok)...), tc.status, tc.code)
				d, _ := m["details"].([]any)
				if len(d) == 0 || !strings.HasPrefix(d[0].(map[string]any)["field"].(string), tc.field) {
					t.Errorf("details = %v, want %s", m["details"], tc.field)
				}
			})
		}
	}
	// The same id twice is one choice, not a conflict; an empty list clears the three types.
	if r := env.do("POST", "/settings/me", map[string]any{"option_ids": []int{3, 3}}, bearer(tok)...); r.StatusCode != 204 {
		t.Errorf("duplicate id: %d %s", r.StatusCode, r.body)
	}
	if r := env.do("POST", "/settings/me", map[string]any{"option_ids": []int{}}, bearer(tok)...); r.StatusCode != 204 {
		t.Errorf("empty list: %d", r.StatusCode)
	}
	if r := env.do("GET", "/settings/me", nil, bearer(tok)...); string(r.body) != "[]\n" {
		t.Errorf("after clearing: %s", r.body)
	}
}
