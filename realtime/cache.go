package realtime

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash"
	"math"
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
	h := sha256.New()
	u := p.upstream
	str := func(s string) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], uint64(len(s)))
		h.Write(n[:])
		h.Write([]byte(s))
	}
	num := func(v uint64) {
		var n [8]byte
		binary.LittleEndian.PutUint64(n[:], v)
		h.Write(n[:])
	}
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
	return sumHex(h)
}

func sumHex(h hash.Hash) string {
	var sum [sha256.Size]byte
	return hex.EncodeToString(h.Sum(sum[:0]))
}

// cacheLookup returns the response cached under key.
func (e *Engine) cacheLookup(ctx context.Context, key string) (cacheEntry, bool) {
	raw, ok := e.cacheGet(ctx, NamespaceResponses, key)
	if ok {
		var ent cacheEntry
		if err := json.Unmarshal(raw, &ent); err == nil {
			e.st.cacheHits.Add(1)
			e.obs.CacheHit(NamespaceResponses)
			return ent, true
		}
	}
	e.st.cacheMisses.Add(1)
	e.obs.CacheMiss(NamespaceResponses)
	return cacheEntry{}, false
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
