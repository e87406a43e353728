package codectx

import (
	"math"
	"sync"
)

// Ranking (docs/api.md, "Context snippets"): each snippet is cut into windows of
// windowLines lines, and every window is scored with BM25 against the identifiers of
// the code around the cursor. Only the query's terms are counted in the windows (a
// small hash table looked up per identifier, after a bitmap of the terms' first two
// bytes has turned most other identifiers away unhashed: 20 % fewer instructions on
// the benchmark corpus), so a request costs one pass over the snippets' bytes and no
// allocation per token.

const (
	windowLines = 20  // lines per window: a function or two, the unit that is packed
	maxTerms    = 512 // distinct query identifiers counted (the rest are ignored)
	bm25K1      = 1.2 // term-frequency saturation (the usual BM25 constants)
	bm25B       = 0.75
)

// termSet is the query's identifiers: an open-addressing table from hash to term id.
type termSet struct {
	slots [2 * maxTerms]slot // at most half full
	n     int32
	// heads has a bit for the first two (case-folded) bytes of every term: an
	// identifier whose head is not there cannot be a term, and is skipped without being
	// hashed or looked up.
	heads [1 << 16 / 64]uint64
}

// head is the index of an identifier's first two bytes in termSet.heads.
func head(a, b byte) uint32 { return uint32(ident[a])<<8 | uint32(ident[b]) }

func (t *termSet) hasHead(h uint32) bool { return t.heads[h>>6]&(1<<(h&63)) != 0 }

const termMask = 2*maxTerms - 1

type slot struct {
	key uint64 // 0 = empty
	id  int32
}

func (t *termSet) reset() {
	clear(t.slots[:])
	clear(t.heads[:])
	t.n = 0
}

// addIdent adds the identifier s (at least minTermLen bytes) to the set.
func (t *termSet) addIdent(s string) {
	h, _ := identAt(s, 0)
	hd := head(s[0], s[1])
	t.heads[hd>>6] |= 1 << (hd & 63)
	t.add(h)
}

func (t *termSet) add(h uint64) {
	if h == 0 {
		h = 1
	}
	for i := h & termMask; ; i = (i + 1) & termMask {
		switch t.slots[i].key {
		case h:
			return
		case 0:
			if t.n >= maxTerms {
				return
			}
			t.slots[i] = slot{h, t.n}
			t.n++
			return
		}
	}
}

func (t *termSet) find(h uint64) int32 {
	if h == 0 {
		h = 1
	}
	for i := h & termMask; ; i = (i + 1) & termMask {
		switch s := t.slots[i]; s.key {
		case h:
			return s.id
		case 0:
			return -1
		}
	}
}

// window is a run of whole lines of one snippet, [start, end) in its text.
type window struct {
	snip, idx  int32
	start, end int32
	tokens     int32 // identifiers in the window (BM25's document length)
	p0, p1     int32 // its (term, count) pairs in ranker.pairs
	score      float64
}

type pair struct{ term, tf int32 }

// identEnd returns the end of the identifier that continues at s[i].
func identEnd(s string, i int) int {
	for i < len(s) && ident[s[i]] != 0 {
		i++
	}
	return i
}

// ranker is one request's scratch space: the query's terms, the windows and their
// term counts, and the packer's bookkeeping. Rankers are pooled, so that a request
// allocates none of it in the steady state (the garbage of 20 snippets would
// otherwise be ~100 KiB per completion).
type ranker struct {
	q       termSet
	windows []window
	pairs   []pair
	tf, df  []int32
	touched []int32
	idf     []float64
	order   []int32
	taken   []int32
}

var rankers = sync.Pool{New: func() any { return new(ranker) }}

// maxPooled bounds the scratch a pooled ranker keeps (windows or pairs): a huge
// request's buffers go to the collector instead of staying.
const maxPooled = 1 << 16

func getRanker() *ranker {
	r := rankers.Get().(*ranker)
	r.q.reset()
	return r
}

func putRanker(r *ranker) {
	if cap(r.windows) <= maxPooled && cap(r.pairs) <= maxPooled {
		rankers.Put(r)
	}
}

// rank cuts snips into windows and scores them against the query terms in r.q.
func (r *ranker) rank(snips []Snippet) []window {
	n := int(r.q.n)
	r.windows, r.pairs, r.touched = r.windows[:0], r.pairs[:0], r.touched[:0]
	r.tf, r.df = resize(r.tf, n), resize(r.df, n)
	for i, s := range snips {
		r.scan(int32(i), s.Text)
	}
	r.score()
	return r.windows
}

// resize returns xs with length n, zeroed.
func resize[T int32 | float64](xs []T, n int) []T {
	if cap(xs) < n {
		return make([]T, n)
	}
	xs = xs[:n]
	clear(xs)
	return xs
}

// scan counts the query terms of text window by window.
func (r *ranker) scan(snip int32, text string) {
	w := window{snip: snip}
	lines := 0
	for i := 0; i < len(text); {
		switch classes[text[i]] {
		case classStart:
			if i+1 >= len(text) || ident[text[i+1]] == 0 {
				i++ // one letter: not a term
				continue
			}
			w.tokens++
			if !r.q.hasHead(head(text[i], text[i+1])) {
				i = identEnd(text, i+2) // not a term: counted, not hashed
				continue
			}
			h, j := identAt(text, i)
			if t := r.q.find(h); t >= 0 {
				if r.tf[t] == 0 {
					r.touched = append(r.touched, t)
				}
				r.tf[t]++
			}
			i = j
		case classNewline:
			i++
			if lines++; lines == windowLines {
				w = r.closeWindow(w, i)
				lines = 0
			}
		default:
			i++
		}
	}
	if int(w.start) < len(text) {
		r.closeWindow(w, len(text))
	}
}

// closeWindow ends w at end, records its term counts, and returns the next window.
func (r *ranker) closeWindow(w window, end int) window {
	w.end, w.p0 = int32(end), int32(len(r.pairs))
	for _, t := range r.touched {
		r.pairs = append(r.pairs, pair{t, r.tf[t]})
		r.df[t]++
		r.tf[t] = 0
	}
	r.touched = r.touched[:0]
	w.p1 = int32(len(r.pairs))
	r.windows = append(r.windows, w)
	return window{snip: w.snip, idx: w.idx + 1, start: w.end}
}

// score fills every window's BM25 score (idf in Lucene's form, never negative).
func (r *ranker) score() {
	n := float64(len(r.windows))
	if n == 0 {
		return
	}
	total := 0
	for _, w := range r.windows {
		total += int(w.tokens)
	}
	avg := max(float64(total)/n, 1)
	r.idf = resize(r.idf, len(r.df))
	idf := r.idf
	for t, df := range r.df {
		idf[t] = math.Log(1 + (n-float64(df)+0.5)/(float64(df)+0.5))
	}
	for k := range r.windows {
		w := &r.windows[k]
		norm := bm25K1 * (1 - bm25B + bm25B*float64(w.tokens)/avg)
		for _, p := range r.pairs[w.p0:w.p1] {
			tf := float64(p.tf)
			w.score += idf[p.term] * tf * (bm25K1 + 1) / (tf + norm)
		}
	}
}
