package web

import (
	"slices"
	"strconv"
	"strings"

	"github.com/hapa-project/hapa/realtime"
)

// This file is the one mapping between the stored profile (realtime.Profile field
// values, docs/compatibility.md, "Profile fields") and the DB-Module's setting option
// ids (docs/compatibility.md, "Settings catalogues"). The settings routes speak
// catalogue v2 (what the extension's settings page sends); onboarding's
// settings_mapping uses catalogue v1 and is read only as a fallback for fields that
// profile_data leaves out.

// Setting types of the option catalogues.
const (
	settingSkill       = "python_skill_level"
	settingStructure   = "code_output_structure"
	settingExplanation = "explanation_style"
	settingProject     = "project_context"
	settingTrigger     = "comment_trigger_mode"
	settingFeature     = "preferred_language_feature"
	settingErrors      = "error_handling_preference"
)

// settingOption is one row of a catalogue, in the DB-Module's wire shape.
type settingOption struct {
	ID          int    `json:"id"`
	SettingType string `json:"setting_type"`
	OptionValue string `json:"option_value"`
}

// catalogueV2 (read-only) is the 9-row catalogue (DB-Module admin_router, backend
// db_init from 07-16), in id order.
var catalogueV2 = []settingOption{
	{1, settingSkill, "beginner"}, {2, settingSkill, "intermediate"},
	{3, settingStructure, "minimal"}, {4, settingStructure, "standard"}, {5, settingStructure, "detailed"},
	{6, settingExplanation, "brief"}, {7, settingExplanation, "standard"}, {8, settingExplanation, "detailed"},
	{9, settingExplanation, "educational"},
}

// catalogueV1 (read-only) is the 27-row catalogue the extension's onboarding maps to.
var catalogueV1 = func() []settingOption {
	groups := []struct {
		typ    string
		values []string
	}{
		{settingSkill, []string{"beginner", "intermediate", "advanced", "expert"}},
		{settingStructure, []string{"minimal", "standard", "detailed", "comprehensive"}},
		{settingExplanation, []string{"brief", "standard", "detailed", "educational"}},
		{settingProject, []string{"web_development", "data_science", "automation", "general_purpose"}},
		{settingTrigger, []string{"immediate_insert", "sidebar", "confirm_insert", "inline_preview"}},
		{settingFeature, []string{"type_hints", "dataclasses", "async_await", "f_strings"}},
		{settingErrors, []string{"basic", "detailed", "robust"}},
	}
	var out []settingOption
	for _, g := range groups {
		for _, v := range g.values {
			out = append(out, settingOption{len(out) + 1, g.typ, v})
		}
	}
	return out
}()

// Profile enums (docs/compatibility.md, "Profile fields"), as the engine accepts them;
// read-only.
var (
	enumSkill       = []string{"beginner", "intermediate", "advanced", "expert"}
	enumStructure   = []string{"minimal", "standard", "detailed", "comprehensive"}
	enumExplanation = []string{"brief", "standard", "detailed", "educational"}
	enumProject     = []string{"web_development", "data_science", "automation", "general_purpose", "academic", "enterprise"}
	enumErrors      = []string{"minimal", "basic", "comprehensive", "production_ready"}
	enumFeatures    = []string{"type_hints", "dataclasses", "async_await", "comprehensions", "generators", "decorators", "context_managers", "f_strings"}
	enumTrigger     = []string{"immediate_insert", "sidebar", "confirm_insert", "inline_preview"}
)

// errorHandlingAlias maps onboarding's errorHandling values (and catalogue v1's) to
// the profile enum.
func errorHandlingAlias(v string) string {
	switch v {
	case "detailed":
		return "comprehensive"
	case "robust":
		return "production_ready"
	}
	return v
}

// optionByID finds id in a catalogue.
func optionByID(cat []settingOption, id int) (settingOption, bool) {
	if id >= 1 && id <= len(cat) && cat[id-1].ID == id {
		return cat[id-1], true
	}
	return settingOption{}, false
}

// optionsV2Sorted is catalogue v2 ordered by setting type, then id (GET /settings/options).
func optionsV2Sorted() []settingOption {
	out := slices.Clone(catalogueV2)
	slices.SortStableFunc(out, func(a, b settingOption) int { return strings.Compare(a.SettingType, b.SettingType) })
	return out
}

// profileField returns a pointer to the profile field a v2 setting type sets.
func profileField(p *realtime.Profile, settingType string) *string {
	switch settingType {
	case settingSkill:
		return &p.PythonSkillLevel
	case settingStructure:
		return &p.CodeOutputStructure
	case settingExplanation:
		return &p.ExplanationStyle
	}
	return nil
}

// selectedOptionsV2 lists the v2 options that p's values select, in id order; values
// without a v2 option (advanced, comprehensive …) select nothing.
func selectedOptionsV2(p realtime.Profile) []settingOption {
	out := []settingOption{}
	for _, o := range catalogueV2 {
		if f := profileField(&p, o.SettingType); f != nil && *f == o.OptionValue {
			out = append(out, o)
		}
	}
	return out
}

// optionIDs returns the ids of opts.
func optionIDs(opts []settingOption) []int64 {
	ids := make([]int64, 0, len(opts))
	for _, o := range opts {
		ids = append(ids, int64(o.ID))
	}
	return ids
}

// applyOptionsV2 replaces the three v2-typed fields of p with the selection ids (a type
// without a selected id is cleared, i.e. back to the default), as the DB-Module's
// "replace all selections" did. Unknown ids and two ids of one type are field errors
// under field (E4008).
func applyOptionsV2(p *realtime.Profile, ids []int, field string) []realtime.FieldError {
	var errs []realtime.FieldError
	chosen := map[string]string{}
	for i, id := range ids {
		name := field + "[" + strconv.Itoa(i) + "]"
		o, ok := optionByID(catalogueV2, id)
		switch {
		case !ok:
			errs = append(errs, realtime.FieldError{Field: name, Code: realtime.CodeOutOfRange,
				Message: "unknown option id " + strconv.Itoa(id) + " (valid: 1-9, GET /settings/options)"})
		case chosen[o.SettingType] != "" && chosen[o.SettingType] != o.OptionValue:
			errs = append(errs, realtime.FieldError{Field: name, Code: realtime.CodeOutOfRange,
				Message: "a second option for " + o.SettingType + " (already " + chosen[o.SettingType] + ")"})
		default:
			chosen[o.SettingType] = o.OptionValue
		}
	}
	if len(errs) > 0 {
		return errs
	}
	for _, typ := range []string{settingSkill, settingStructure, settingExplanation} {
		*profileField(p, typ) = chosen[typ]
	}
	return nil
}

// applyOptionsV1 fills the still-unset fields of sp from onboarding's v1 ids; unknown
// ids are ignored (the mapping is a fallback only).
func applyOptionsV1(sp *savedProfile, ids []int) {
	var feats []string
	for _, id := range ids {
		o, ok := optionByID(catalogueV1, id)
		if !ok {
			continue
		}
		set := func(dst *string, v string) {
			if *dst == "" {
				*dst = v
			}
		}
		switch o.SettingType {
		case settingSkill:
			set(&sp.PythonSkillLevel, o.OptionValue)
		case settingStructure:
			set(&sp.CodeOutputStructure, o.OptionValue)
		case settingExplanation:
			set(&sp.ExplanationStyle, o.OptionValue)
		case settingProject:
			set(&sp.ProjectContext, o.OptionValue)
		case settingTrigger:
			set(&sp.CommentTriggerMode, o.OptionValue)
		case settingErrors:
			set(&sp.ErrorHandlingPreference, errorHandlingAlias(o.OptionValue))
		case settingFeature:
			feats = append(feats, o.OptionValue)
		}
	}
	if sp.PreferredLanguageFeatures == nil && feats != nil {
		sp.PreferredLanguageFeatures = feats
	}
}
