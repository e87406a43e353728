package realtime

import (
	"github.com/hapa-project/hapa/vllm"
)

// Token accounting (docs/operations.md, "Token accounting"). Two figures are kept per
// subscription:
//
//   - delivered: the prompt and the completion tokens of the text this subscriber was
//     handed — all of it for a stream read to its end, what was read for one that was
//     cancelled, disconnected, revoked, cut at shutdown or failed mid-way. This is the
//     usage its stream.done, SSE and /v1 events report and its request-log row's
//     tokens_in/tokens_out.
//   - upstream: the model tokens vLLM produced that this subscription is charged for,
//     its row's upstream_tokens_in/out, the token quota and hapa_ai_tokens_used_total.
//     A cache hit is charged none. A flight's upstream tokens are charged once, to one
//     subscriber at a time: its launcher, and when the launcher leaves while coalesced
//     joiners still read, the oldest of them from then on. A joiner that never becomes
//     the owner is charged none.
//
// Completion tokens are counted as vLLM reports them on every chunk
// (stream_options.continuous_usage_stats), or one per text delta when it does not.
// Prompt tokens are vLLM's count once it gave one; before that (a stream cancelled
// before its first chunk) a prompt that reached vLLM is charged promptEstimate.

// tokenMark records that the flight's buffer held end bytes once tokens completion
// tokens had been read.
type tokenMark struct {
	end, tokens int
}

// bytesPerPromptToken is the estimate of a prompt's size in tokens when vLLM has not
// counted it: code tokenizes at about 3–4 bytes a token, so 3 errs on the side of
// more tokens (a quota reservation must not be too small).
const bytesPerPromptToken = 3

// promptEstimate is the estimated prompt tokens of an upstream request.
func promptEstimate(u vllm.Request) int {
	n := len(u.Prompt)
	for _, m := range u.Messages {
		n += len(m.Role) + len(m.Content) + 4 // the chat template adds a few tokens per message
	}
	return (n + bytesPerPromptToken - 1) / bytesPerPromptToken
}

// tokensRead records upstream progress: the completion tokens read so far (the
// running count of continuous usage, or the delta count) and, when vLLM gave it, the
// prompt count. It is called with f.mu held, after text was appended.
func (f *flight) tokensRead(completion, prompt int) {
	if completion > f.tokens {
		f.tokens = completion
	}
	if prompt > 0 {
		f.prompt = prompt
	}
	if n := len(f.marks); n > 0 && f.marks[n-1].end == len(f.buf) {
		f.marks[n-1].tokens = f.tokens // more tokens, no more text: the same mark
		return
	}
	f.marks = append(f.marks, tokenMark{end: len(f.buf), tokens: f.tokens})
}

// promptTokens is the flight's prompt count: vLLM's, else the estimate when the request
// reached vLLM, else 0. f.mu is held.
func (f *flight) promptTokens() int {
	switch {
	case f.prompt > 0:
		return f.prompt
	case f.sent:
		return f.estimate
	}
	return 0
}

// deliveredAt is the usage of the flight's first off bytes. f.mu is held (a replay
// needs no lock: it never changes).
func (f *flight) deliveredAt(off int) vllm.Usage {
	if f.replay {
		u := f.end.usage
		if n := len(f.text); off < n && n > 0 {
			u.CompletionTokens = (u.CompletionTokens*off + n - 1) / n
			u.TotalTokens = u.PromptTokens + u.CompletionTokens
		}
		return u
	}
	completion := f.tokens // everything read so far (tokens that carried no text too)
	if off < len(f.buf) {
		completion = 0
		lo, hi := 0, len(f.marks) // the last mark at or before off
		for lo < hi {
			mid := (lo + hi) / 2
			if f.marks[mid].end <= off {
				lo = mid + 1
			} else {
				hi = mid
			}
		}
		if lo > 0 {
			completion = f.marks[lo-1].tokens
		}
	}
	prompt := f.promptTokens()
	return vllm.Usage{PromptTokens: prompt, CompletionTokens: completion, TotalTokens: prompt + completion}
}

// chargeOwner returns the upstream tokens s is charged as it leaves the flight, and
// passes the ownership on: the owner is charged what was read since it took over (the
// launcher also the prompt); any other subscriber nothing. f.mu is held.
func (f *flight) chargeOwner(s *Stream) vllm.Usage {
	var u vllm.Usage
	for i, o := range f.owners {
		if o != s {
			continue
		}
		if i == 0 {
			u.CompletionTokens = f.tokens - f.charged
			f.charged = f.tokens
			if !f.promptCharged {
				u.PromptTokens = f.promptTokens()
				f.promptCharged = true
			}
			u.TotalTokens = u.PromptTokens + u.CompletionTokens
		}
		f.owners = append(f.owners[:i], f.owners[i+1:]...)
		break
	}
	return u
}
