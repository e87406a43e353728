package web

import (
	"net/http"
	"strings"

	"github.com/hapa-project/hapa/realtime"
)

// profileData is onboarding's profile_data (docs/compatibility.md, "Profile fields"):
// the onboarding names, and the camelCase profile names accepted as well (the
// onboarding name wins when both are sent).
type profileData struct {
	Email              string   `json:"email"`
	Username           string   `json:"username"`
	SkillLevel         string   `json:"skillLevel"`
	OutputStructure    string   `json:"outputStructure"`
	ExplanationStyle   string   `json:"explanationStyle"`
	ProjectContext     string   `json:"projectContext"`
	ErrorHandling      string   `json:"errorHandling"`
	LanguageFeatures   []string `json:"languageFeatures"`
	CommentTriggerMode string   `json:"commentTriggerMode"`

	PythonSkillLevel          string   `json:"pythonSkillLevel"`
	CodeOutputStructure       string   `json:"codeOutputStructure"`
	ErrorHandlingPreference   string   `json:"errorHandlingPreference"`
	PreferredLanguageFeatures []string `json:"preferredLanguageFeatures"`
}

type profileRequest struct {
	ProfileData     *profileData `json:"profile_data"`
	SettingsMapping []int        `json:"settings_mapping"`
}

type profileResponse struct {
	Message string       `json:"message"`
	Profile savedProfile `json:"profile"`
}

// either returns the first field name and value that is set.
func either(nameA, a, nameB, b string) (string, string) {
	if a != "" {
		return nameA, a
	}
	return nameB, b
}

// toProfile validates d and maps it onto a profile; errors name the fields as sent.
func (d *profileData) toProfile(v *validator) savedProfile {
	const pre = "profile_data."
	var sp savedProfile
	n, val := either("skillLevel", d.SkillLevel, "pythonSkillLevel", d.PythonSkillLevel)
	sp.PythonSkillLevel = enumValue(v, pre+n, val, enumSkill)
	n, val = either("outputStructure", d.OutputStructure, "codeOutputStructure", d.CodeOutputStructure)
	sp.CodeOutputStructure = enumValue(v, pre+n, val, enumStructure)
	sp.ExplanationStyle = enumValue(v, pre+"explanationStyle", d.ExplanationStyle, enumExplanation)
	sp.ProjectContext = enumValue(v, pre+"projectContext", d.ProjectContext, enumProject)
	n, val = either("errorHandling", d.ErrorHandling, "errorHandlingPreference", d.ErrorHandlingPreference)
	sp.ErrorHandlingPreference = enumValue(v, pre+n, errorHandlingAlias(strings.ToLower(strings.TrimSpace(val))), enumErrors)
	if d.LanguageFeatures != nil {
		sp.PreferredLanguageFeatures = featureList(v, pre+"languageFeatures", d.LanguageFeatures)
	} else {
		sp.PreferredLanguageFeatures = featureList(v, pre+"preferredLanguageFeatures", d.PreferredLanguageFeatures)
	}
	sp.CommentTriggerMode = enumValue(v, pre+"commentTriggerMode", d.CommentTriggerMode, enumTrigger)
	return sp
}

// handleProfile serves POST /api/v1/users/profile (onboarding): profile_data strings
// become the stored profile; settings_mapping (catalogue v1 ids) only fills fields that
// profile_data leaves out. Fields not sent keep their stored value.
func (s *Server) handleProfile(w http.ResponseWriter, r *http.Request) {
	c := s.mustUser(r)
	var req profileRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return
	}
	var v validator
	if !v.required("profile_data", req.ProfileData != nil) {
		s.writeError(w, r, v.err())
		return
	}
	in := req.ProfileData.toProfile(&v)
	v.maxLen("profile_data.username", req.ProfileData.Username, 100)
	if err := v.err(); err != nil {
		s.writeError(w, r, err)
		return
	}
	applyOptionsV1(&in, req.SettingsMapping)
	cur, err := s.loadProfile(r.Context(), c.UserID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	merged := savedProfile{Profile: realtime.MergeProfile(cur.Profile, &in.Profile), CommentTriggerMode: cur.CommentTriggerMode}
	if in.CommentTriggerMode != "" {
		merged.CommentTriggerMode = in.CommentTriggerMode
	}
	if err := s.saveProfile(r.Context(), c.UserID, merged); err != nil {
		s.writeError(w, r, err)
		return
	}
	if req.ProfileData.Username != "" {
		if u, err := s.deps.DB.Users().ByID(r.Context(), c.UserID); err == nil {
			s.keepName(r.Context(), u, req.ProfileData.Username, true)
		}
	}
	writeJSON(w, http.StatusOK, profileResponse{Message: "프로필이 성공적으로 저장되었습니다.", Profile: merged})
}
