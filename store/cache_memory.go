package store

import (
	"container/list"
	"context"
	"sync"
	"time"
)

// CacheStats counts one namespace of a cache.
type CacheStats struct {
	Entries int64 `json:"entries"`
	Hits    int64 `json:"hits"`
	Misses  int64 `json:"misses"`
}

// MemoryCache is an in-process LRU cache with per-entry TTL. One entry limit
// is shared by all namespaces; every operation is O(1) except Clear of one
// namespace, which walks the list. Safe for concurrent use.
type MemoryCache struct {
	max int
	now func() time.Time

	mu    sync.Mutex
	ll    *list.List // front = most recently used
	items map[memKey]*list.Element
	stats map[string]*CacheStats
}

type memKey struct{ ns, key string }

type memEntry struct {
	k       memKey
	val     []byte
	expires time.Time // zero: never
}

// NewMemoryCache returns a cache holding at most maxEntries entries
// (MAX_CACHE_SIZE; ≤ 0 means 1000); a nil now means time.Now.
func NewMemoryCache(maxEntries int, now func() time.Time) *MemoryCache {
	if maxEntries <= 0 {
		maxEntries = 1000
	}
	if now == nil {
		now = time.Now
	}
	return &MemoryCache{max: maxEntries, now: now, ll: list.New(),
		items: map[memKey]*list.Element{}, stats: map[string]*CacheStats{}}
}

func (c *MemoryCache) stat(ns string) *CacheStats {
	s := c.stats[ns]
	if s == nil {
		s = &CacheStats{}
		c.stats[ns] = s
	}
	return s
}

// Get returns the value stored under ns/key. The returned slice is shared:
// callers must not modify it. The error is always nil.
func (c *MemoryCache) Get(_ context.Context, ns, key string) ([]byte, bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	el, ok := c.items[memKey{ns, key}]
	if ok {
		e := el.Value.(*memEntry)
		if !e.expires.IsZero() && !c.now().Before(e.expires) {
			c.remove(el)
			ok = false
		} else {
			c.ll.MoveToFront(el)
			c.stat(ns).Hits++
			return e.val, true, nil
		}
	}
	c.stat(ns).Misses++
	return nil, false, nil
}

// Set stores a copy of val under ns/key for ttl (≤ 0: until evicted),
// evicting the least recently used entry when full.
func (c *MemoryCache) Set(_ context.Context, ns, key string, val []byte, ttl time.Duration) error {
	e := &memEntry{k: memKey{ns, key}, val: append([]byte(nil), val...)}
	if ttl > 0 {
		e.expires = c.now().Add(ttl)
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if el, ok := c.items[e.k]; ok {
		el.Value = e
		c.ll.MoveToFront(el)
		return nil
	}
	for c.ll.Len() >= c.max {
		c.remove(c.ll.Back())
	}
	c.items[e.k] = c.ll.PushFront(e)
	c.stat(ns).Entries++
	return nil
}

func (c *MemoryCache) remove(el *list.Element) {
	e := el.Value.(*memEntry)
	c.ll.Remove(el)
	delete(c.items, e.k)
	c.stat(e.k.ns).Entries--
}

// Clear removes every entry of ns ("" = all namespaces) and returns how many
// were removed. Hit and miss counters are kept.
func (c *MemoryCache) Clear(_ context.Context, ns string) (int, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	n := 0
	for el := c.ll.Front(); el != nil; {
		next := el.Next()
		if ns == "" || el.Value.(*memEntry).k.ns == ns {
			c.remove(el)
			n++
		}
		el = next
	}
	return n, nil
}

// Stats returns a snapshot per namespace. Entries may include expired
// entries not yet looked up or evicted.
func (c *MemoryCache) Stats(context.Context) map[string]CacheStats {
	c.mu.Lock()
	defer c.mu.Unlock()
	out := make(map[string]CacheStats, len(c.stats))
	for ns, s := range c.stats {
		out[ns] = *s
	}
	return out
}

// Len returns the number of entries held, across namespaces.
func (c *MemoryCache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.ll.Len()
}
