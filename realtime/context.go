package realtime

import (
	"github.com/hapa-project/hapa/realtime/codectx"
)

// Editor context in prompts (docs/vllm.md, "Path header and context files"; docs/api.md,
// "Context snippets"): the packing itself is package codectx; this file hands it the
// request, the budget and the model's context length.

// chatOverhead is what the chat template and the "Related code" title add to a chat
// prompt besides the messages' text, counted against the context length's room.
const chatOverhead = 96

// budget is the context budget in tokens; 0 when snippets are not used.
func (e *Engine) budget() int { return max(e.cfg.ContextTokenBudget, 0) }

// maxModelLen is the model's context length when the upstream knows it, else 0.
func (e *Engine) maxModelLen() int {
	if e.window == nil {
		return 0
	}
	return e.window.MaxModelLen()
}

// buildFIM renders a FIM prompt of req with the path header and the packed snippets.
func (e *Engine) buildFIM(req Request, prefix, suffix string, maxTokens int) codectx.Built {
	f := codectx.FIM{Family: e.cfg.Family, Path: req.FilePath, Language: req.Language, Prefix: prefix, Suffix: suffix}
	if len(req.ContextSnippets) > 0 && e.budget() > 0 {
		f.Snippets, f.BudgetTokens, f.MaxModelLen, f.MaxTokens = snippets(req.ContextSnippets), e.budget(), e.maxModelLen(), maxTokens
	}
	return codectx.BuildFIM(f)
}

// withRelated appends the packed snippets to a chat generation's user message, ranked
// against the question and the code context, within the budget and the room the
// system and user messages leave in the model's context length.
func (e *Engine) withRelated(req Request, system, user string, maxTokens int) string {
	if len(req.ContextSnippets) == 0 || e.budget() == 0 {
		return user
	}
	room := codectx.Room(e.budget(), e.maxModelLen(), len(system)+len(user)+chatOverhead, maxTokens)
	query := append(codectx.QueryOf(req.Context, ""), req.Prompt)
	related := codectx.Related(codectx.Pack(snippets(req.ContextSnippets), query, room))
	if related == "" {
		return user
	}
	return user + "\n\n" + related
}

func snippets(cs []ContextSnippet) []codectx.Snippet {
	out := make([]codectx.Snippet, len(cs))
	for i, c := range cs {
		out[i] = codectx.Snippet{Path: c.Path, Text: c.Text}
	}
	return out
}
