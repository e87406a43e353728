package codectx

import (
	"cmp"
	"slices"
	"strings"
)

// Snippet is one piece of context an editor sends: a neighbouring open file or a
// recently edited region, with its path (may be empty).
type Snippet struct {
	Path string
	Text string
}

// Piece is packed context: whole lines of one snippet.
type Piece struct {
	Snippet int     // index in the request's snippets
	Path    string  // the snippet's path
	Text    string  // the lines, a substring of the snippet's text
	Score   float64 // the best BM25 score of its windows
}

// PieceOverhead is what a piece costs in the budget besides its text and path: the
// header a template puts before it (vllm.FIMHeaderOverhead, or Related's fence lines,
// which are shorter).
const PieceOverhead = 32

// Query is the code the snippets are ranked against: the last queryPrefixLines lines
// before the cursor and the first querySuffixLines after it.
const (
	queryPrefixLines = 30
	querySuffixLines = 10
)

// Pack ranks snips against the identifiers of query and returns the best windows that
// fit in budget bytes (each piece costing its text, its path and PieceOverhead),
// adjacent windows of one snippet merged, least relevant first. Windows that share no
// identifier with the query are never packed. When the next-best window does not fit
// whole, its first lines that fit are packed and packing stops.
func Pack(snips []Snippet, query []string, budget int) []Piece {
	if budget <= 0 || len(snips) == 0 {
		return nil
	}
	r := getRanker()
	defer putRanker(r)
	for _, s := range query {
		scanTerms(s, r.q.addIdent)
	}
	if r.q.n == 0 {
		return nil
	}
	ws := r.rank(snips)
	order := r.order[:0]
	for k, w := range ws {
		if w.score > 0 {
			order = append(order, int32(k))
		}
	}
	slices.SortFunc(order, func(a, b int32) int {
		wa, wb := &ws[a], &ws[b]
		if c := cmp.Compare(wb.score, wa.score); c != 0 {
			return c
		}
		return cmp.Compare(a, b) // windows are in snippet, then line order
	})

	r.order = order
	r.taken = resize(r.taken, len(ws)) // end offset of the taken part; 0 = not taken
	taken := r.taken
	left := budget
	for _, k := range order {
		w := &ws[k]
		header := PieceOverhead + len(snips[w.snip].Path)
		if joins(ws, taken, int(k)) {
			header = 0 // continues a taken neighbour: no header of its own
		}
		if cost := int(w.end-w.start) + header; cost <= left {
			taken[k], left = w.end, left-cost
			continue
		}
		// Cut short, it no longer reaches the next window: it keeps a header unless it
		// continues the previous one.
		if k == 0 || ws[k-1].snip != w.snip || taken[k-1] != w.start {
			header = PieceOverhead + len(snips[w.snip].Path)
		}
		if room := left - header; room > 0 {
			text := snips[w.snip].Text[w.start : int(w.start)+min(room, int(w.end-w.start))]
			if cut := strings.LastIndexByte(text, '\n'); cut >= 0 {
				taken[k] = w.start + int32(cut) + 1
			}
		}
		break
	}
	return pieces(snips, ws, taken)
}

// joins reports whether window k touches a taken window of its snippet whole-line to
// whole-line, so that the two will be merged into one piece.
func joins(ws []window, taken []int32, k int) bool {
	w := ws[k]
	if k > 0 && ws[k-1].snip == w.snip && taken[k-1] == w.start {
		return true
	}
	return k+1 < len(ws) && ws[k+1].snip == w.snip && taken[k+1] != 0 && w.end == ws[k+1].start
}

// pieces merges the taken windows into pieces, least relevant first.
func pieces(snips []Snippet, ws []window, taken []int32) []Piece {
	var out []Piece
	for k := 0; k < len(ws); k++ {
		if taken[k] == 0 {
			continue
		}
		w := ws[k]
		end, score := taken[k], w.score
		for k+1 < len(ws) && ws[k+1].snip == w.snip && taken[k+1] != 0 && ws[k+1].start == end {
			k++
			end, score = taken[k], max(score, ws[k].score)
		}
		s := snips[w.snip]
		out = append(out, Piece{Snippet: int(w.snip), Path: s.Path, Text: s.Text[w.start:end], Score: score})
	}
	slices.SortStableFunc(out, func(a, b Piece) int { return cmp.Compare(a.Score, b.Score) })
	return out
}

// Cost is the budget bytes pieces use.
func Cost(ps []Piece) int {
	n := 0
	for _, p := range ps {
		n += len(p.Text) + len(p.Path) + PieceOverhead
	}
	return n
}

// QueryOf returns the code around the cursor that snippets are ranked against: the
// last lines of prefix and the first lines of suffix.
func QueryOf(prefix, suffix string) []string {
	return []string{lastLines(prefix, queryPrefixLines), firstLines(suffix, querySuffixLines)}
}

func lastLines(s string, n int) string {
	i := len(s)
	for ; n > 0 && i > 0; n-- {
		i = strings.LastIndexByte(s[:i], '\n')
		if i < 0 {
			return s
		}
	}
	return s[i:]
}

func firstLines(s string, n int) string {
	i := 0
	for ; n > 0; n-- {
		j := strings.IndexByte(s[i:], '\n')
		if j < 0 {
			return s
		}
		i += j + 1
	}
	return s[:i]
}
