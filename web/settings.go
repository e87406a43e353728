package web

import (
	"net/http"

	"github.com/hapa-project/hapa/realtime"
)

type optionIDsRequest struct {
	OptionIDs *[]int `json:"option_ids"`
}

// handleSettingsOptions serves GET /settings/options: catalogue v2, by type then id.
func (s *Server) handleSettingsOptions(w http.ResponseWriter, _ *http.Request) {
	writeJSON(w, http.StatusOK, optionsV2Sorted())
}

// handleSettingsGet serves GET /api/v1/users/settings and GET /settings/me: the v2
// options the stored profile selects.
func (s *Server) handleSettingsGet(w http.ResponseWriter, r *http.Request) {
	c := s.mustUser(r)
	sp, err := s.loadProfile(r.Context(), c.UserID)
	if err != nil {
		s.writeError(w, r, err)
		return
	}
	writeJSON(w, http.StatusOK, selectedOptionsV2(sp.Profile))
}

// updateSettings applies a v2 option-id selection to the caller's profile.
func (s *Server) updateSettings(w http.ResponseWriter, r *http.Request) bool {
	c := s.mustUser(r)
	var req optionIDsRequest
	if err := decodeJSON(r, &req); err != nil {
		s.writeError(w, r, err)
		return false
	}
	var v validator
	if !v.required("option_ids", req.OptionIDs != nil) {
		s.writeError(w, r, v.err())
		return false
	}
	if len(*req.OptionIDs) > 64 {
		v.add("option_ids", realtime.CodeOutOfRange, "at most 64 ids")
		s.writeError(w, r, v.err())
		return false
	}
	sp, err := s.loadProfile(r.Context(), c.UserID)
	if err != nil {
		s.writeError(w, r, err)
		return false
	}
	if fe := applyOptionsV2(&sp.Profile, *req.OptionIDs, "option_ids"); fe != nil {
		v.fields = fe
		s.writeError(w, r, v.err())
		return false
	}
	if err := s.saveProfile(r.Context(), c.UserID, sp); err != nil {
		s.writeError(w, r, err)
		return false
	}
	return true
}

// handleSettingsPost serves POST /api/v1/users/settings.
func (s *Server) handleSettingsPost(w http.ResponseWriter, r *http.Request) {
	if s.updateSettings(w, r) {
		writeJSON(w, http.StatusOK, messageBody{Message: "설정이 성공적으로 업데이트되었습니다."})
	}
}

// handleSettingsMePost serves POST /settings/me (204, as the DB-Module).
func (s *Server) handleSettingsMePost(w http.ResponseWriter, r *http.Request) {
	if s.updateSettings(w, r) {
		w.WriteHeader(http.StatusNoContent)
	}
}
