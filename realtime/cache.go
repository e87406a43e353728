package realtime

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"math"
	"slices"
	"sync"
	"time"

	"github.com/hapa-project/hapa/vllm"
)

// NamespaceResponses is the cache namespace of generated responses.
const NamespaceResponses = "code_generation"

// cacheIncidentEvery bounds E5002 incidents while a cache is down: one per interval,
// the rest are counted (Stats.CacheErrors, Observer.CacheError) and logged.
const cacheIncidentEvery = time.Minute

// cacheEntry is the JSON value of a cached response.
type cacheEntry struct {
	Text         string     `json:"text"`
	Usage        vllm.Usage `json:"usage"`
	FinishReason string     `json:"finish_reason"`
	Model        string     `json:"model"`
}

// cacheKey is the exact-match key of a rendered request: SHA-256 over the adapter,
// the rendered prompt or messages and every sampling parameter, plus the API key id
// under CacheScopeKey. The same key identifies coalescable in-flight requests.
func cacheKey(p plan, scope string, keyID int64) string {
	u := p.upstream
	n := 128 + len(u.Model) + len(u.Prompt)
	for _, m := range u.Messages {
		n += 16 + len(m.Role) + len(m.Content)
	}
	bp := keyBufs.Get().(*[]byte)
	b := slices.Grow((*bp)[:0], n)
	defer func() {
		if cap(b) <= 64<<10 { // a huge prompt's buffer is not kept
			*bp = b[:0]
			keyBufs.Put(bp)
		}
	}()
	str := func(s string) { // length-prefixed: no two field lists encode alike
		b = binary.LittleEndian.AppendUint64(b, uint64(len(s)))
		b = append(b, s...)
	}
	num := func(v uint64) { b = binary.LittleEndian.AppendUint64(b, v) }
	str("hapa.v1")
	str(u.Model)
	str(u.Prompt)
	num(uint64(len(u.Messages)))
	for _, m := range u.Messages {
		str(m.Role)
		str(m.Content)
	}
	num(uint64(u.MaxTokens))
	num(math.Float64bits(u.Temperature))
	num(math.Float64bits(u.TopP))
	num(uint64(len(u.Stop)))
	for _, s := range u.Stop {
		str(s)
	}
	if u.Seed != nil {
		str("seed")
		num(uint64(*u.Seed))
	}
	if scope == CacheScopeKey {
		str("key")
		num(uint64(keyID))
	}
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// keyBufs are cacheKey's scratch buffers (the key material is hashed, then dropped).
var keyBufs = sync.Pool{New: func() any { return new([]byte) }}

// cacheRead returns the response cached under key (countLookup counts the outcome).
func (e *Engine) cacheRead(ctx context.Context, key string) (cacheEntry, bool) {
	raw, ok := e.cacheGet(ctx, NamespaceResponses, key)
	if ok {
		var ent cacheEntry
		if err := json.Unmarshal(raw, &ent); err == nil {
			return ent, true
		}
	}
	return cacheEntry{}, false
}

// countLookup counts a response-cache hit or miss of an admitted request.
func (e *Engine) countLookup(hit bool) {
	if hit {
		e.st.cacheHits.Add(1)
		e.obs.CacheHit(NamespaceResponses)
		return
	}
	e.st.cacheMisses.Add(1)
	e.obs.CacheMiss(NamespaceResponses)
}

// cacheFill stores a finished response.
func (e *Engine) cacheFill(ctx context.Context, key string, ent cacheEntry) {
	raw, err := json.Marshal(ent)
	if err == nil {
		e.cacheSet(ctx, NamespaceResponses, key, raw, e.cfg.CacheTTL)
	}
}

// cacheGet reads the cache; a failing cache reads as a miss (E5002, bypassed).
func (e *Engine) cacheGet(ctx context.Context, ns, key string) ([]byte, bool) {
	if e.deps.Cache == nil {
		return nil, false
	}
	raw, ok, err := e.deps.Cache.Get(ctx, ns, key)
	if err != nil {
		e.cacheFailed(ctx, ns, err)
		return nil, false
	}
	return raw, ok
}

// cacheSet writes the cache; a failure is recorded and otherwise ignored.
func (e *Engine) cacheSet(ctx context.Context, ns, key string, val []byte, ttl time.Duration) {
	if e.deps.Cache == nil {
		return
	}
	if err := e.deps.Cache.Set(ctx, ns, key, val, ttl); err != nil {
		e.cacheFailed(ctx, ns, err)
	}
}

// cacheFailed counts a bypassed cache failure and records an E5002 incident at most
// once per cacheIncidentEvery.
func (e *Engine) cacheFailed(ctx context.Context, ns string, err error) {
	if ctx.Err() != nil {
		return // the caller left; not the cache's fault
	}
	e.st.cacheErrors.Add(1)
	e.obs.CacheError(ns)
	e.log.Warn("realtime: cache bypassed", "namespace", ns, "err", err)
	now := time.Now().UnixNano()
	last := e.st.lastCacheIncident.Load()
	if e.deps.Incidents == nil || now-last < int64(cacheIncidentEvery) ||
		!e.st.lastCacheIncident.CompareAndSwap(last, now) {
		return
	}
	ictx, cancel := context.WithTimeout(context.WithoutCancel(ctx), incidentTimeout)
	defer cancel()
	e.deps.Incidents.Record(ictx, Wrap(CodeCacheError, err), "cache:"+ns, "")
}
