package realtime

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/hapa-project/hapa/realtime/codectx"
	"github.com/hapa-project/hapa/vllm"
)

// CacheScope values of EngineConfig.CacheScope.
const (
	// CacheScopeGlobal shares cache entries and coalesced flights across API keys: the
	// best hit rate, but one key can learn that another asked the same question (the
	// answer comes back faster and with cached:true).
	CacheScopeGlobal = "global"
	// CacheScopeKey keeps entries and flights per API key: nothing leaks between keys.
	CacheScopeKey = "key"
)

// EngineConfig configures the engine. A zero field means the documented default.
type EngineConfig struct {
	Family    vllm.Family         // model family of the FIM template; zero: the vllm package default
	Adapters  map[string]string   // task (model_type) → adapter; entries override the defaults (vllm.DefaultAdapters)
	BaseModel string              // base model; used by Raw requests that name no Model (else the task's adapter)
	Sampling  map[string]Sampling // adapter → default sampling; entries override the built-in ones

	CacheTTL            time.Duration // response cache entry lifetime; default 1800s (CACHE_TTL)
	CacheMaxTemperature float64       // only requests with temperature ≤ this are cached and coalesced; default 0.3; greedy only: 1e-9; negative: never
	CacheScope          string        // CacheScopeGlobal (default) or CacheScopeKey
	ProfileTTL          time.Duration // stored-profile cache lifetime; default 1m

	MaxPromptChars   int // default 4000
	MaxContextChars  int // default 8000
	MaxPrefixChars   int // default 8000
	MaxSuffixChars   int // default 4000
	MaxTokensLimit   int // upper bound of max_tokens; default 4096
	MaxFilePathChars int // file_path and snippet paths; default 1000

	// Languages are the canonical names of the languages fill-in-the-middle requests
	// accept (COMPLETION_LANGUAGES); nil: the family's list (codectx.FamilyLanguages).
	// Chat generations accept Python only.
	Languages []string
	// ContextTokenBudget is the tokens of context snippets packed into one prompt
	// (CONTEXT_TOKEN_BUDGET); default 1024; negative: snippets are checked but unused.
	ContextTokenBudget int
	MaxSnippets        int // context snippets per request; default 32
	MaxSnippetChars    int // characters of one snippet's text; default 20000
	MaxSnippetsChars   int // characters of all snippets' text together; default 200000
	MaxOutputBytes     int // hard cap of one generation's buffered text; default 1 MiB

	LogQueue         int           // request-log queue length; default 10000
	LogBatch         int           // rows per InsertBatch; default 256
	LogFlushInterval time.Duration // longest wait before a partial batch is written; default 500ms
	LogRetryRows     int           // rows kept while the database is down; default 20000
	LogRetryMax      time.Duration // longest backoff between retries; default 30s
	FlushTimeout     time.Duration // how long shutdown waits to write the last rows; default 5s
}

func (c EngineConfig) withDefaults() (EngineConfig, error) {
	def := func(v *int, d int) {
		if *v == 0 {
			*v = d
		}
	}
	defDur := func(v *time.Duration, d time.Duration) {
		if *v == 0 {
			*v = d
		}
	}
	defDur(&c.CacheTTL, 1800*time.Second)
	defDur(&c.ProfileTTL, defaultProfileTTL)
	if c.CacheMaxTemperature == 0 {
		c.CacheMaxTemperature = 0.3
	}
	if c.CacheScope == "" {
		c.CacheScope = CacheScopeGlobal
	}
	def(&c.MaxPromptChars, 4000)
	def(&c.MaxContextChars, 8000)
	def(&c.MaxPrefixChars, 8000)
	def(&c.MaxSuffixChars, 4000)
	def(&c.MaxTokensLimit, 4096)
	def(&c.MaxFilePathChars, 1000)
	def(&c.ContextTokenBudget, 1024)
	def(&c.MaxSnippets, 32)
	def(&c.MaxSnippetChars, 20000)
	def(&c.MaxSnippetsChars, 200000)
	if c.Languages == nil {
		c.Languages = codectx.FamilyLanguages(c.Family)
	}
	langs := make([]string, 0, len(c.Languages))
	for _, name := range c.Languages {
		l, ok := codectx.Lookup(name)
		if !ok {
			return c, fmt.Errorf("realtime: Languages: unknown language %q (known: %s)", name, strings.Join(codectx.Names(), ", "))
		}
		if !slices.Contains(langs, l.Name) {
			langs = append(langs, l.Name)
		}
	}
	c.Languages = langs
	def(&c.MaxOutputBytes, 1<<20)
	def(&c.LogQueue, 10000)
	def(&c.LogBatch, 256)
	defDur(&c.LogFlushInterval, 500*time.Millisecond)
	def(&c.LogRetryRows, 20000)
	defDur(&c.LogRetryMax, 30*time.Second)
	defDur(&c.FlushTimeout, 5*time.Second)

	if c.CacheScope != CacheScopeGlobal && c.CacheScope != CacheScopeKey {
		return c, fmt.Errorf("realtime: CacheScope %q: want global or key", c.CacheScope)
	}
	for name, v := range map[string]int{"MaxPromptChars": c.MaxPromptChars, "MaxContextChars": c.MaxContextChars,
		"MaxPrefixChars": c.MaxPrefixChars, "MaxSuffixChars": c.MaxSuffixChars, "MaxTokensLimit": c.MaxTokensLimit,
		"MaxOutputBytes": c.MaxOutputBytes, "MaxFilePathChars": c.MaxFilePathChars, "MaxSnippets": c.MaxSnippets,
		"MaxSnippetChars": c.MaxSnippetChars, "MaxSnippetsChars": c.MaxSnippetsChars, "LogQueue": c.LogQueue, "LogBatch": c.LogBatch, "LogRetryRows": c.LogRetryRows} {
		if v < 0 {
			return c, fmt.Errorf("realtime: %s must not be negative", name)
		}
	}
	if c.CacheTTL < 0 || c.ProfileTTL < 0 || c.LogFlushInterval < 0 || c.LogRetryMax < 0 || c.FlushTimeout < 0 {
		return c, fmt.Errorf("realtime: durations must not be negative")
	}
	return c, nil
}

// adapterTable merges the configured adapters over the defaults.
func (c EngineConfig) adapterTable() map[string]string {
	t := map[string]string(vllm.DefaultAdapters())
	maps.Copy(t, c.Adapters)
	return t
}

// samplingTable merges the configured task defaults over the built-in ones.
func (c EngineConfig) samplingTable() map[string]Sampling {
	t := maps.Clone(defaultSampling)
	maps.Copy(t, c.Sampling)
	return t
}
