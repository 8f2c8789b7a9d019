package tokenizer

import (
	"strings"
	"sync"
	"unicode/utf8"
)

// bpe is a byte-level BPE model over token ids: a word starts as one token
// per byte and the adjacent pair with the lowest merge rank is merged until
// no pair has a rank (leftmost first among equal ranks, which is what the
// Hugging Face priority-queue implementation does).
type bpe struct {
	byteID [256]int32        // the token of each single byte; -1 when absent
	merges map[uint64]uint64 // pairKey(a, b) -> rank<<32 | merged id
	list   [][2]int32        // the merged pairs in rank order, for Save

	// ignoreMerges (Hugging Face's ignore_merges) emits a word that is
	// itself a vocabulary token without merging; whole maps the raw bytes
	// of each model token to its id.
	ignoreMerges bool
	whole        map[string]int32

	cache [cacheShards]cache // word -> ids, shared by concurrent encoders
}

func pairKey(a, b int32) uint64 { return uint64(uint32(a))<<32 | uint64(uint32(b)) }

// lookup returns the rank and result of merging a and b.
func (m *bpe) lookup(a, b int32) (rank int32, id int32, ok bool) {
	v, ok := m.merges[pairKey(a, b)]
	return int32(v >> 32), int32(uint32(v)), ok
}

// longWord is the symbol count above which the heap merge is used: the
// simple loop is faster on ordinary words but quadratic in word length.
const longWord = 64

// appendWord appends the ids of the word w (raw bytes of one pre-tokenizer
// piece) to dst.
func (m *bpe) appendWord(dst []int, w string) []int {
	if m.ignoreMerges {
		if id, ok := m.whole[w]; ok {
			return append(dst, int(id))
		}
	}
	var buf [longWord]int32
	syms := buf[:0]
	if len(w) > longWord {
		syms = make([]int32, 0, len(w))
	}
	for i := 0; i < len(w); i++ {
		// Like the reference without an unk token, a byte absent from the
		// vocabulary is dropped (never happens with a full byte alphabet).
		if id := m.byteID[w[i]]; id >= 0 {
			syms = append(syms, id)
		}
	}
	if len(syms) > longWord {
		syms = m.mergeHeap(syms)
	} else {
		syms = m.mergeLoop(syms)
	}
	for _, s := range syms {
		dst = append(dst, int(s))
	}
	return dst
}

// MaxPiece is the longest pre-token piece merged as one word, in bytes.
// A longer piece (a megabyte of letters without a space, a run of
// whitespace) is merged in chunks of MaxPiece bytes cut at character
// boundaries: merging one 50 MB word whole took 90 s and 5.9 GB (the heap
// of candidate merges), chunks take time and memory linear in the input.
// The ids differ from the reference's only at the chunk boundaries of such
// pieces, which real text does not have.
const MaxPiece = 1 << 16

// appendLong appends the ids of a long piece, merged in chunks of at most
// MaxPiece bytes.
func (m *bpe) appendLong(dst []int, w string) []int {
	for len(w) > MaxPiece {
		cut := MaxPiece
		for cut > 0 && !utf8.RuneStart(w[cut]) {
			cut--
		}
		if cut == 0 { // not UTF-8: any byte boundary will do
			cut = MaxPiece
		}
		dst = m.appendWord(dst, w[:cut])
		w = w[cut:]
	}
	return m.appendWord(dst, w)
}

// mergeLoop merges syms in place by repeatedly scanning for the lowest rank.
func (m *bpe) mergeLoop(syms []int32) []int32 {
	const none = int32(1<<31 - 1)
	var rbuf, ibuf [longWord]int32
	ranks, ids := rbuf[:0], ibuf[:0] // ranks[i], ids[i]: merge of syms[i], syms[i+1]
	for i := 0; i+1 < len(syms); i++ {
		r, id, ok := m.lookup(syms[i], syms[i+1])
		if !ok {
			r = none
		}
		ranks, ids = append(ranks, r), append(ids, id)
	}
	for {
		best := -1
		for i, r := range ranks {
			if r != none && (best < 0 || r < ranks[best]) {
				best = i
			}
		}
		if best < 0 {
			return syms
		}
		syms[best] = ids[best]
		syms = append(syms[:best+1], syms[best+2:]...)
		ranks = append(ranks[:best], ranks[best+1:]...)
		ids = append(ids[:best], ids[best+1:]...)
		for _, i := range [2]int{best - 1, best} {
			if i < 0 || i+1 >= len(syms) {
				continue
			}
			r, id, ok := m.lookup(syms[i], syms[i+1])
			if !ok {
				r = none
			}
			ranks[i], ids[i] = r, id
		}
	}
}

// mergeHeap is mergeLoop for long words: a doubly linked list of symbols and
// a heap of candidate merges ordered by (rank, position), O(n log n). The
// heap is typed (container/heap boxed every candidate: a third of the time
// and most of the garbage on long words).
func (m *bpe) mergeHeap(syms []int32) []int32 {
	n := len(syms)
	prev, next := make([]int32, n), make([]int32, n)
	alive := make([]bool, n)
	for i := range syms {
		prev[i], next[i], alive[i] = int32(i-1), int32(i+1), true
	}
	next[n-1] = -1
	h := make(mergeHeapQ, 0, n)
	push := func(i int32) {
		j := next[i]
		if j < 0 {
			return
		}
		if r, id, ok := m.lookup(syms[i], syms[j]); ok {
			h.push(mergeCand{rank: r, pos: i, left: syms[i], right: syms[j], id: id})
		}
	}
	for i := int32(0); i < int32(n); i++ {
		push(i)
	}
	for len(h) > 0 {
		c := h.pop()
		j := next[c.pos]
		// Skip candidates whose symbols changed since they were pushed.
		if !alive[c.pos] || j < 0 || syms[c.pos] != c.left || syms[j] != c.right {
			continue
		}
		syms[c.pos] = c.id
		alive[j] = false
		next[c.pos] = next[j]
		if k := next[j]; k >= 0 {
			prev[k] = c.pos
		}
		if p := prev[c.pos]; p >= 0 {
			push(p)
		}
		push(c.pos)
	}
	out := syms[:0]
	for i := int32(0); i >= 0; i = next[i] {
		out = append(out, syms[i])
	}
	return out
}

type mergeCand struct{ rank, pos, left, right, id int32 }

// mergeHeapQ is a binary min-heap of candidates by (rank, pos).
type mergeHeapQ []mergeCand

func (a mergeCand) less(b mergeCand) bool {
	if a.rank != b.rank {
		return a.rank < b.rank
	}
	return a.pos < b.pos
}

func (q *mergeHeapQ) push(c mergeCand) {
	*q = append(*q, c)
	h := *q
	for i := len(h) - 1; i > 0; {
		p := (i - 1) / 2
		if !h[i].less(h[p]) {
			break
		}
		h[i], h[p] = h[p], h[i]
		i = p
	}
}

func (q *mergeHeapQ) pop() mergeCand {
	h := *q
	top := h[0]
	last := len(h) - 1
	h[0] = h[last]
	h = h[:last]
	for i := 0; ; {
		l, small := 2*i+1, i
		if l < len(h) && h[l].less(h[small]) {
			small = l
		}
		if r := l + 1; r < len(h) && h[r].less(h[small]) {
			small = r
		}
		if small == i {
			break
		}
		h[i], h[small] = h[small], h[i]
		i = small
	}
	*q = h
	return top
}

// The word cache: most text is made of a few thousand distinct words, so
// caching their ids skips nearly all merging. It is sharded to keep
// concurrent encoders from contending on one lock, and each shard is simply
// cleared when full (bounded memory, no eviction bookkeeping).
const (
	cacheShards   = 16
	cacheShardMax = 1 << 14
	cacheWordMax  = 64 // longer words are rare and not worth keeping
)

type cache struct {
	mu sync.Mutex
	m  map[string][]int32
}

func cacheShard(w string) int {
	// FNV-1a over at most 8 bytes: cheap and spreads words well enough.
	h := uint32(2166136261)
	for i := 0; i < len(w) && i < 8; i++ {
		h = (h ^ uint32(w[i])) * 16777619
	}
	return int(h % cacheShards)
}

// appendWordCached is appendWord with the word cache.
func (m *bpe) appendWordCached(dst []int, w string) []int {
	if len(w) == 1 { // digits, punctuation, lone spaces: nothing to merge
		if id := m.byteID[w[0]]; id >= 0 {
			return append(dst, int(id))
		}
		return dst
	}
	if len(w) > cacheWordMax {
		return m.appendLong(dst, w)
	}
	c := &m.cache[cacheShard(w)]
	c.mu.Lock()
	ids, ok := c.m[w]
	c.mu.Unlock()
	if ok {
		for _, id := range ids {
			dst = append(dst, int(id))
		}
		return dst
	}
	start := len(dst)
	dst = m.appendWord(dst, w)
	ids = make([]int32, len(dst)-start)
	for i, id := range dst[start:] {
		ids[i] = int32(id)
	}
	c.mu.Lock()
	if c.m == nil || len(c.m) >= cacheShardMax {
		c.m = make(map[string][]int32)
	}
	c.m[strings.Clone(w)] = ids // w may point into a large input
	c.mu.Unlock()
	return dst
}
