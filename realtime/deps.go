package realtime

import (
	"context"
	"time"

	"github.com/hapa-project/hapa/store"
	"github.com/hapa-project/hapa/vllm"
)

// The interfaces the engine consumes. Leaves export concrete types that satisfy them:
// *vllm.Pool and *vllm.Client (Upstream), store's memory and Redis caches (Cache),
// store's request log (LogStore).

// Upstream opens one streaming generation. Cancelling ctx, or closing the stream,
// closes the upstream connection, which is what makes vLLM abort the generation.
type Upstream interface {
	Stream(ctx context.Context, req vllm.Request) (*vllm.Stream, error)
}

// ContextWindow is an Upstream that knows the model's context length (max_model_len
// from vLLM's /v1/models; 0 while unknown); *vllm.Pool implements it. The engine keeps
// the context it packs into prompts within it (docs/vllm.md, "Context budget").
type ContextWindow interface {
	MaxModelLen() int
}

// Cache is a namespaced byte cache with TTL. A miss is (nil, false, nil); an error means
// the cache itself failed and is bypassed.
type Cache interface {
	Get(ctx context.Context, ns, key string) ([]byte, bool, error)
	Set(ctx context.Context, ns, key string, val []byte, ttl time.Duration) error
}

// RemoteCache is a Cache whose reads are network round trips (Redis): the engine
// overlaps them with Request.Admit.
type RemoteCache interface {
	Cache
	Remote() bool
}

// Spool keeps what could not be written to the database on local disk, bounded, until
// it can be replayed (also by the next process); *store.Spool implements it.
type Spool interface {
	Append(records ...[]byte) error
	Replay(ctx context.Context, batch int, fn func([][]byte) error) (int, error)
	Len() (records, bytes int64)
}

// LogStore writes request-log rows in batches.
type LogStore interface {
	InsertBatch(ctx context.Context, rows []store.RequestLogRow) error
}

// Profiles returns a user's stored profile (onboarding and settings); empty fields
// mean "not set".
type Profiles interface {
	Profile(ctx context.Context, userID int64) (Profile, error)
}

// QuotaReserver holds per-key token quotas (docs/operations.md, "Token quotas");
// *limits.Quotas implements it. Keys without a quota cost it nothing.
type QuotaReserver interface {
	// Reserve admits an upstream generation of c that may use prompt + maxTokens
	// tokens: it reserves them in c's quota windows at once (so concurrent requests
	// cannot all pass on the same remaining tokens) and returns the reservation (nil
	// for a key without a quota) and the max_tokens granted — maxTokens, or fewer
	// when fewer are left. With too few tokens left for the prompt and one more it
	// refuses with E4016.
	Reserve(ctx context.Context, c Caller, prompt, maxTokens int) (Reservation, int, *Error)
	// Check refuses with E4016 when c has used all of a quota (cache hits, which use
	// no model tokens, are refused too then, and charged nothing).
	Check(ctx context.Context, c Caller) *Error
}

// Reservation is the tokens reserved for one subscription. Settle replaces it with
// what the subscription was charged (its upstream tokens), once, when it ends.
type Reservation interface {
	Settle(ctx context.Context, used int)
}

// Incidents records a server error and returns its incident id.
type Incidents interface {
	Record(ctx context.Context, e *Error, path, requestID string) string
}

// EngineObserver receives the engine's events for metrics. Every method must be cheap and
// must not block; EngineDeps.Observer may be nil.
type EngineObserver interface {
	CacheHit(ns string)
	CacheMiss(ns string)
	CacheError(ns string)
	Coalesced()
	// StreamDone reports one finished subscription: outcome is the finish reason
	// (stop, length, cancelled) or the error code; delivered and upstream are its
	// token counts (usage.go): served from upstream, a coalesced flight or the cache.
	StreamDone(adapter string, kind Kind, outcome string, ttft, latency time.Duration, delivered, upstream vllm.Usage, source string)
}

// nopEngineObserver is the Observer of an engine built without one.
type nopEngineObserver struct{}

func (nopEngineObserver) CacheHit(string)   {}
func (nopEngineObserver) CacheMiss(string)  {}
func (nopEngineObserver) CacheError(string) {}
func (nopEngineObserver) Coalesced()        {}
func (nopEngineObserver) StreamDone(string, Kind, string, time.Duration, time.Duration, vllm.Usage, vllm.Usage, string) {
}
