package realtime

import (
	"context"
	"math"
	"slices"
	"strings"

	"github.com/hapa-project/hapa/vllm"
)

// plan is a validated request turned into what goes upstream: the adapter, the
// rendered prompt or messages and the final sampling.
type plan struct {
	req      Request // validated copy (Kind and Task filled)
	upstream vllm.Request
}

// render builds the upstream request of a validated req. Personalisation (system
// message and sampling adjustments) applies to generations that are not Raw; the
// stored profile is fetched only then.
func (e *Engine) render(ctx context.Context, req Request) plan {
	model := req.Model
	switch {
	case model == "" && req.Raw && e.cfg.BaseModel != "":
		model = e.cfg.BaseModel // OpenAI routes without a model: the base model
	case model == "":
		model = e.adapters[req.Task]
	}
	s, ok := e.sampling[model]
	if !ok {
		s = fallbackSampling[req.Kind]
	}
	up := vllm.Request{Model: model, Seed: req.Seed, AffinityKey: req.AffinityKey}

	// Completions (FIM) carry no instructions: only chat generations are personalised.
	personal := req.Kind == KindGeneration && !req.Raw && (req.Task != TaskCompletion || len(req.Messages) > 0)
	var prof Profile
	if personal {
		stored := e.storedProfile(ctx, req.Caller.UserID)
		prof = MergeProfile(MergeProfile(DefaultProfile(), &stored), req.Profile)
		s = adjustSampling(s, prof, e.cfg.MaxTokensLimit)
	}
	up.MaxTokens, up.Temperature, up.TopP = s.MaxTokens, s.Temperature, s.TopP
	if req.MaxTokens > 0 {
		up.MaxTokens = req.MaxTokens
	}
	if req.Temperature != nil {
		up.Temperature = *req.Temperature // an explicit 0 stays 0 (docs/compatibility.md, Quirk 14)
	}
	if req.TopP != nil {
		up.TopP = *req.TopP
	}

	stop := slices.Clone(req.Stop)
	switch {
	case req.Raw && len(req.Messages) > 0:
		up.Messages = slices.Clone(req.Messages)
	case req.Raw:
		up.Prompt = req.Prompt
	case req.Kind == KindCompletion:
		b := e.buildFIM(req, req.Prefix, req.Suffix, up.MaxTokens)
		up.Prompt = b.Prompt
		stop = appendNew(stop, b.Stop...)
	case len(req.Messages) > 0:
		up.Messages = withSystem(req.Messages, systemPrompt(req.Task, prof))
		stop = appendNew(stop, generationStop...)
	case req.Task == TaskCompletion:
		// A generation on the completion task (what the extension's inline provider
		// sends): the prompt is code to continue, the context the code before it.
		prefix := req.Prompt
		if req.Context != "" {
			prefix = req.Context + "\n" + req.Prompt
		}
		b := e.buildFIM(req, prefix, "", up.MaxTokens)
		up.Prompt = b.Prompt
		stop = appendNew(stop, b.Stop...)
	default:
		system := systemPrompt(req.Task, prof)
		up.Messages = []vllm.Message{
			{Role: "system", Content: system},
			{Role: "user", Content: e.withRelated(req, system, userPrompt(req.Prompt, req.Context), up.MaxTokens)},
		}
		stop = appendNew(stop, generationStop...)
	}
	up.Stop = stop
	return plan{req: req, upstream: up}
}

// adjustSampling tunes a task's defaults to the profile (the original's
// _optimize_request_for_user, docs/compatibility.md, "How preferences reach the model",
// kept integral and bounded). Explicit request values are applied after it and never
// adjusted.
func adjustSampling(s Sampling, p Profile, maxTokens int) Sampling {
	switch p.PythonSkillLevel {
	case "beginner": // more room for explanations
		s.MaxTokens = min(s.MaxTokens*3/2, maxTokens)
	case "expert":
		s.MaxTokens = max(s.MaxTokens*4/5, 64)
	}
	switch p.CodeOutputStructure {
	case "minimal": // terser and more deterministic
		s.Temperature = max(s.Temperature*0.8, 0.1)
	case "detailed", "comprehensive":
		s.Temperature = min(s.Temperature*1.2, 0.4)
	}
	switch p.ExplanationStyle {
	case "detailed", "educational":
		s.TopP = max(s.TopP*0.9, 0.7)
	case "brief":
		s.TopP = min(s.TopP*1.1, 0.95)
	}
	s.Temperature = math.Round(s.Temperature*100) / 100
	s.TopP = math.Round(s.TopP*100) / 100
	return s
}

// userPrompt is the user message: the question, then the code context fenced (the
// original dropped the context, docs/compatibility.md, Quirk 8).
func userPrompt(prompt, context string) string {
	if strings.TrimSpace(context) == "" {
		return prompt
	}
	var b strings.Builder
	b.Grow(len(prompt) + len(context) + 40)
	b.WriteString(prompt)
	b.WriteString("\n\nCode context:\n```python\n")
	b.WriteString(strings.TrimRight(context, "\n"))
	b.WriteString("\n```")
	return b.String()
}

// withSystem puts the profile's instructions before the caller's messages, merging
// them into a leading system message when there is one.
func withSystem(ms []vllm.Message, system string) []vllm.Message {
	out := make([]vllm.Message, 0, len(ms)+1)
	if ms[0].Role == "system" {
		out = append(out, vllm.Message{Role: "system", Content: system + "\n\n" + ms[0].Content})
		return append(out, ms[1:]...)
	}
	out = append(out, vllm.Message{Role: "system", Content: system})
	return append(out, ms...)
}

// appendNew appends the strings of add not yet in dst.
func appendNew(dst []string, add ...string) []string {
	for _, s := range add {
		if !slices.Contains(dst, s) {
			dst = append(dst, s)
		}
	}
	return dst
}
