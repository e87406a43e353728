package realtime

import (
	"context"
	"encoding/json"
	"slices"
	"strconv"
	"strings"
	"time"
)

// NamespaceProfiles is the cache namespace of stored profiles.
const NamespaceProfiles = "user_profiles"

// profileEnums lists the accepted values of each enum field (docs/compatibility.md,
// "Profile fields"), the default first.
var profileEnums = struct {
	skill, structure, explanation, project, errors, features []string
}{
	skill:       []string{"intermediate", "beginner", "advanced", "expert"},
	structure:   []string{"standard", "minimal", "detailed", "comprehensive"},
	explanation: []string{"standard", "brief", "detailed", "educational"},
	project:     []string{"general_purpose", "web_development", "data_science", "automation", "academic", "enterprise"},
	errors:      []string{"basic", "minimal", "comprehensive", "production_ready"},
	features:    []string{"type_hints", "dataclasses", "async_await", "comprehensions", "generators", "decorators", "context_managers", "f_strings"},
}

// errorHandlingAliases maps the onboarding and catalogue-v1 values
// (docs/compatibility.md, "Profile fields", §7.2) onto the profile enum.
var errorHandlingAliases = map[string]string{"detailed": "comprehensive", "robust": "production_ready"}

// DefaultProfile returns the profile of a user who set nothing (docs/compatibility.md,
// "Profile fields").
func DefaultProfile() Profile {
	return Profile{
		PythonSkillLevel:          "intermediate",
		CodeOutputStructure:       "standard",
		ExplanationStyle:          "standard",
		ProjectContext:            "general_purpose",
		ErrorHandlingPreference:   "basic",
		PreferredLanguageFeatures: []string{"type_hints", "f_strings"},
	}
}

// MergeProfile overlays override on base field by field: a set (non-empty) field of
// override wins; a non-nil feature list replaces the base list (an empty non-nil list
// means "none").
func MergeProfile(base Profile, override *Profile) Profile {
	if override == nil {
		return base
	}
	set := func(dst *string, v string) {
		if v != "" {
			*dst = v
		}
	}
	set(&base.PythonSkillLevel, override.PythonSkillLevel)
	set(&base.CodeOutputStructure, override.CodeOutputStructure)
	set(&base.ExplanationStyle, override.ExplanationStyle)
	set(&base.ProjectContext, override.ProjectContext)
	set(&base.ErrorHandlingPreference, override.ErrorHandlingPreference)
	if override.PreferredLanguageFeatures != nil {
		base.PreferredLanguageFeatures = override.PreferredLanguageFeatures
	}
	return base
}

// NormalizeProfile lower-cases the values, maps aliases and checks every value against
// its enum. It returns the cleaned profile with invalid fields reset to "" (unset) and
// one FieldError per invalid value, named under prefix.
func NormalizeProfile(p Profile, prefix string) (Profile, []FieldError) {
	var errs []FieldError
	check := func(v *string, name string, allowed []string) {
		s := strings.ToLower(strings.TrimSpace(*v))
		if a, ok := errorHandlingAliases[s]; ok && name == "errorHandlingPreference" {
			s = a
		}
		*v = s
		if s != "" && !slices.Contains(allowed, s) {
			errs = append(errs, FieldError{Field: prefix + name, Code: CodeOutOfRange,
				Message: "must be one of " + strings.Join(allowed, ", ")})
			*v = ""
		}
	}
	check(&p.PythonSkillLevel, "pythonSkillLevel", profileEnums.skill)
	check(&p.CodeOutputStructure, "codeOutputStructure", profileEnums.structure)
	check(&p.ExplanationStyle, "explanationStyle", profileEnums.explanation)
	check(&p.ProjectContext, "projectContext", profileEnums.project)
	check(&p.ErrorHandlingPreference, "errorHandlingPreference", profileEnums.errors)
	if p.PreferredLanguageFeatures != nil {
		feats := make([]string, 0, len(p.PreferredLanguageFeatures))
		for _, f := range p.PreferredLanguageFeatures {
			f = strings.ToLower(strings.TrimSpace(f))
			switch {
			case slices.Contains(feats, f):
			case slices.Contains(profileEnums.features, f):
				feats = append(feats, f)
			default:
				errs = append(errs, FieldError{Field: prefix + "preferredLanguageFeatures", Code: CodeOutOfRange,
					Message: strconv.Quote(f) + " is not one of " + strings.Join(profileEnums.features, ", ")})
			}
		}
		p.PreferredLanguageFeatures = feats
	}
	return p, errs
}

// storedProfile returns the caller's stored profile, normalised (invalid stored values
// are dropped, never fatal), through the user_profiles cache. Any failure yields the
// zero profile: personalisation degrades to the defaults, the request is still served.
func (e *Engine) storedProfile(ctx context.Context, userID int64) Profile {
	if e.deps.Profiles == nil || userID == 0 {
		return Profile{}
	}
	key := strconv.FormatInt(userID, 10)
	if raw, ok := e.cacheGet(ctx, NamespaceProfiles, key); ok {
		var p Profile
		if json.Unmarshal(raw, &p) == nil {
			return p
		}
	}
	p, err := e.deps.Profiles.Profile(ctx, userID)
	if err != nil {
		e.log.Warn("realtime: stored profile unavailable, using defaults", "user_id", userID, "err", err)
		return Profile{}
	}
	p, bad := NormalizeProfile(p, "")
	if len(bad) > 0 {
		e.log.Warn("realtime: stored profile has invalid values", "user_id", userID, "fields", bad)
	}
	if raw, err := json.Marshal(p); err == nil {
		e.cacheSet(ctx, NamespaceProfiles, key, raw, e.cfg.ProfileTTL)
	}
	return p
}

// defaultProfileTTL is how long a stored profile stays in the user_profiles cache: short,
// because a settings change should reach the next request quickly.
const defaultProfileTTL = time.Minute
