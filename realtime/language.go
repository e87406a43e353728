package realtime

import (
	"fmt"
	"slices"
	"strings"

	"github.com/hapa-project/hapa/realtime/codectx"
)

// Programming languages (docs/api.md, "Programming languages"). Fill-in-the-middle is
// language-agnostic: completions — and generations on the completion task, which are
// rendered as FIM — accept every language of EngineConfig.Languages (the model
// family's list unless COMPLETION_LANGUAGES overrides it), named in `language` or
// detected from `file_path`'s extension. Chat generations keep the original's
// Python-only contract: their instructions and personalisation are Python's.

// fim reports whether req is rendered with the FIM template (call after Kind and Task
// are filled).
func (req *Request) fim() bool {
	return !req.Raw && len(req.Messages) == 0 && (req.Kind == KindCompletion || req.Task == TaskCompletion)
}

// resolveLanguage sets req.Language to the canonical name of the request's language —
// the one it names, else for FIM requests the one its file_path's extension names,
// else Python — and returns why it is not accepted ("" when it is).
func (e *Engine) resolveLanguage(req *Request) string {
	fim := req.fim()
	var lang codectx.Language
	found := false
	if name := strings.TrimSpace(req.Language); name != "" {
		if lang, found = codectx.Lookup(name); !found {
			return fmt.Sprintf("unknown language %q", truncateRunes(name, 40))
		}
	} else if fim && req.FilePath != "" {
		lang, found = codectx.Detect(req.FilePath)
	}
	if !found {
		lang, _ = codectx.Lookup("python")
	}
	req.Language = lang.Name
	switch {
	case !fim && lang.Name != "python":
		return "generation supports only Python"
	case fim && !slices.Contains(e.cfg.Languages, lang.Name):
		return fmt.Sprintf("%s is not completed by this model (COMPLETION_LANGUAGES: %s)", lang.Name, strings.Join(e.cfg.Languages, ", "))
	}
	return ""
}

// truncateRunes shortens s to at most n characters, for echoing input in messages.
func truncateRunes(s string, n int) string {
	if r := []rune(s); len(r) > n {
		return string(r[:n]) + "…"
	}
	return s
}
