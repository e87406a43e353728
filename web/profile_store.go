package web

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	"github.com/hapa-project/hapa/realtime"
	"github.com/hapa-project/hapa/store"
)

// savedProfile is what user_settings.profile holds: the engine's realtime.Profile
// (camelCase JSON, docs/compatibility.md, "Profile fields") plus the editor-only
// comment trigger mode. Decoding it into a plain realtime.Profile ignores the extra
// field.
type savedProfile struct {
	realtime.Profile
	CommentTriggerMode string `json:"commentTriggerMode,omitempty"`
}

// loadProfile returns the user's stored profile; an unreadable stored profile counts
// as empty (it is replaced on the next save).
func (s *Server) loadProfile(ctx context.Context, userID int64) (savedProfile, error) {
	st, err := s.deps.DB.Settings().Get(ctx, userID)
	if err != nil {
		return savedProfile{}, dbError(err, "")
	}
	var sp savedProfile
	if err := json.Unmarshal(st.Profile, &sp); err != nil {
		s.log.WarnContext(ctx, "stored profile is not valid, ignoring it", "user_id", userID, "err", err)
		return savedProfile{}, nil
	}
	return sp, nil
}

// saveProfile stores sp with the v2 option ids it selects.
func (s *Server) saveProfile(ctx context.Context, userID int64, sp savedProfile) error {
	raw, err := json.Marshal(sp)
	if err != nil {
		return realtime.Wrap(realtime.CodeInternal, err)
	}
	_, err = s.deps.DB.Settings().Put(ctx, store.UserSettings{
		UserID: userID, Profile: raw, OptionIDs: optionIDs(selectedOptionsV2(sp.Profile)),
	})
	if err != nil {
		return dbError(err, "")
	}
	if s.deps.ProfileChanged != nil {
		s.deps.ProfileChanged(ctx, userID)
	}
	return nil
}

// enumValue normalises one enum field (trimmed, lower-case) and records a field error
// when it is set but not one of allowed; invalid values come back as "".
func enumValue(v *validator, field, val string, allowed []string) string {
	val = strings.ToLower(strings.TrimSpace(val))
	if !v.oneOf(field, val, allowed...) {
		return ""
	}
	return val
}

// featureList normalises a language-feature list (duplicates dropped); nil stays nil
// ("not given"), an empty list means "none".
func featureList(v *validator, field string, feats []string) []string {
	if feats == nil {
		return nil
	}
	out := make([]string, 0, len(feats))
	for _, f := range feats {
		f = strings.ToLower(strings.TrimSpace(f))
		if f == "" || !v.oneOf(field, f, enumFeatures...) || slices.Contains(out, f) {
			continue
		}
		out = append(out, f)
	}
	return out
}
