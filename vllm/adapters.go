package vllm

import (
	"fmt"
	"maps"
	"slices"
	"strings"
)

// The four LoRA adapters HAPA's vLLM serves (names as in --lora-modules).
const (
	AdapterAutocomplete = "autocomplete"
	AdapterPrompt       = "prompt"
	AdapterComment      = "comment"
	AdapterErrorFix     = "error_fix"
)

// Adapters lists the four adapter names.
func Adapters() []string {
	return []string{AdapterAutocomplete, AdapterPrompt, AdapterComment, AdapterErrorFix}
}

// AdapterMap maps HAPA's model_type (task) to a LoRA adapter name.
type AdapterMap map[string]string

// DefaultAdapters returns a fresh copy of the default task → adapter mapping.
func DefaultAdapters() AdapterMap {
	return AdapterMap{
		"code_completion":      AdapterAutocomplete,
		"code_generation":      AdapterPrompt,
		"code_optimization":    AdapterPrompt,
		"unit_test_generation": AdapterPrompt,
		"code_explanation":     AdapterComment,
		"code_review":          AdapterComment,
		"documentation":        AdapterComment,
		"bug_fix":              AdapterErrorFix,
	}
}

// Adapter returns the adapter of a task.
func (m AdapterMap) Adapter(task string) (string, bool) {
	a, ok := m[task]
	return a, ok
}

// Tasks returns the mapped tasks, sorted.
func (m AdapterMap) Tasks() []string { return slices.Sorted(maps.Keys(m)) }

// String renders m in the form ParseAdapterMap reads, sorted by task.
func (m AdapterMap) String() string {
	parts := make([]string, 0, len(m))
	for _, t := range m.Tasks() {
		parts = append(parts, t+"="+m[t])
	}
	return strings.Join(parts, ",")
}

// ParseAdapterMap returns the defaults overridden by s, a comma-separated list of
// task=adapter pairs such as "bug_fix=error_fix,code_review=comment". New tasks may be
// added; an empty s returns the defaults.
func ParseAdapterMap(s string) (AdapterMap, error) {
	m := DefaultAdapters()
	for item := range strings.SplitSeq(s, ",") {
		item = strings.TrimSpace(item)
		if item == "" {
			continue
		}
		task, adapter, ok := strings.Cut(item, "=")
		task, adapter = strings.TrimSpace(task), strings.TrimSpace(adapter)
		if !ok || task == "" || adapter == "" {
			return nil, fmt.Errorf("vllm: adapter map entry %q: want task=adapter", item)
		}
		if strings.ContainsAny(adapter, " \t\"") {
			return nil, fmt.Errorf("vllm: adapter map entry %q: bad adapter name", item)
		}
		m[task] = adapter
	}
	return m, nil
}
