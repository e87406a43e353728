package vllm

// This file fixes the types other packages build on. The client, decoder, pool and
// simulator implement them; change a signature only together with its callers.

// Message is one chat message of /v1/chat/completions.
type Message struct {
	Role    string `json:"role"`
	Content string `json:"content"`
}

// Request is one generation request as HAPA sends it upstream. When Messages is
// non-empty it goes to /v1/chat/completions, otherwise Prompt goes to /v1/completions
// (fill-in-the-middle is already rendered into Prompt; vLLM ignores `suffix`).
// The client always streams and always asks for usage (stream_options.include_usage).
type Request struct {
	Model       string    // base model or LoRA adapter name
	Prompt      string    // /v1/completions
	Messages    []Message // /v1/chat/completions
	MaxTokens   int       // 0 omits max_tokens (vLLM: 16 on /v1/completions, the rest of the context on chat)
	Temperature float64   // always sent: 0 means greedy
	TopP        float64   // 0 omits top_p (vLLM's default 1.0)
	Stop        []string
	Seed        *int64
	User        string

	// AffinityKey selects a replica by rendezvous hash (pool only; not sent upstream).
	AffinityKey string
}

// Chat reports whether the request goes to /v1/chat/completions.
func (r Request) Chat() bool { return len(r.Messages) > 0 }

// Usage is vLLM's token accounting.
type Usage struct {
	PromptTokens     int `json:"prompt_tokens"`
	CompletionTokens int `json:"completion_tokens"`
	TotalTokens      int `json:"total_tokens"`
}

// Delta is one normalised piece of a stream: text of choice 0 (completion `text` or chat
// `delta.content`), a finish reason on the last choice chunk, usage on the usage chunk.
// A chunk may carry any combination; empty Text is legal (the chat role chunk).
type Delta struct {
	Text         string
	FinishReason string // "", "stop", "length", "abort"
	Usage        *Usage // the running usage (continuous_usage_stats), or the final usage chunk's
}
