package tokenizer

import (
	"container/heap"
	"fmt"
	"sort"
)

// DefaultSpecials are the special tokens of our own tokenizers: end of
// sequence, padding, ChatML turn markers and the ARPO turn tags.
var DefaultSpecials = []string{
	"<|endoftext|>", "<|pad|>", "<|im_start|>", "<|im_end|>",
	"<think>", "</think>", "<search>", "</search>", "<python>", "</python>",
	"<result>", "</result>", "<answer>", "</answer>",
}

// Train learns a byte-level BPE tokenizer from texts with vocabSize tokens
// in all: the specials first (ids 0, 1, ...; never split, and never learnt
// from: they are cut out of the texts before counting), then the 256 bytes,
// then one token per merge. It uses the Qwen2 split pattern (digits one by
// one) and no normalizer, so every byte string round-trips.
//
// Each step merges the most frequent adjacent pair, ties going to the pair
// with the smaller (left id, right id), so training is deterministic. Pair
// counts are updated incrementally from an index of the words holding each
// pair, with a lazily updated max-heap, so a few MB train in seconds.
//
// When "<|endoftext|>" and "<|pad|>" are among the specials they become the
// end-of-sequence and padding tokens.
func Train(texts []string, vocabSize int, specials []string) (*Tokenizer, error) {
	if vocabSize < len(specials)+256 {
		return nil, fmt.Errorf("tokenizer: vocabulary size %d is below %d specials + 256 bytes", vocabSize, len(specials))
	}
	t := &Tokenizer{pattern: PatternQwen2}
	seen := map[string]bool{}
	for i, s := range specials {
		if s == "" || seen[s] {
			return nil, fmt.Errorf("tokenizer: special token %q is empty or repeated", s)
		}
		seen[s] = true
		t.added = append(t.added, AddedToken{ID: i, Content: s, Special: true})
		t.tokens = append(t.tokens, []byte(s))
	}
	// The byte alphabet in the order of its byte-level runes, as the Hugging
	// Face trainer lays it out.
	order := make([]int, 256)
	for i := range order {
		order[i] = i
	}
	sort.Slice(order, func(i, j int) bool { return byteToRune[order[i]] < byteToRune[order[j]] })
	for _, b := range order {
		t.model.byteID[b] = int32(len(t.tokens))
		t.tokens = append(t.tokens, []byte{byte(b)})
	}
	t.finish()

	words, counts := t.countWords(texts)
	tr := newTrainer(words, counts, t)
	t.model.merges = map[uint64]uint64{}
	for len(t.tokens) < vocabSize {
		a, b, ok := tr.best()
		if !ok {
			break // every word is a single token
		}
		id := tr.merge(a, b)
		t.model.merges[pairKey(a, b)] = uint64(len(t.model.list))<<32 | uint64(id)
		t.model.list = append(t.model.list, [2]int32{a, b})
	}
	t.finish()
	if err := t.SetEOS("<|endoftext|>"); err != nil {
		t.eos = -1
	}
	if err := t.SetPad("<|pad|>"); err != nil {
		t.pad = -1
	}
	return t, nil
}

// countWords returns the distinct pre-tokenizer pieces of texts, sorted, and
// how often each occurs; added tokens are cut out first.
func (t *Tokenizer) countWords(texts []string) ([]string, []int64) {
	freq := map[string]int64{}
	count := func(s string) {
		for i := 0; i < len(s); {
			j := t.pattern.next(s, i)
			freq[s[i:j]]++
			i = j
		}
	}
	for _, s := range texts {
		start := 0
		for i := 0; i < len(s); i++ {
			if !t.addedFirst[s[i]] {
				continue
			}
			if a, ok := t.addedAt(s, i); ok {
				count(s[start:i])
				i += len(a.Content) - 1
				start = i + 1
			}
		}
		count(s[start:])
	}
	words := make([]string, 0, len(freq))
	for w := range freq {
		words = append(words, w)
	}
	sort.Strings(words)
	counts := make([]int64, len(words))
	for i, w := range words {
		counts[i] = freq[w]
	}
	return words, counts
}

// trainer holds the state of BPE training: each distinct word as a symbol
// sequence, the count of every adjacent pair weighted by word frequency, and
// for each pair the words that held it when it was created (entries go stale
// when a word loses the pair; merging a stale word does nothing).
type trainer struct {
	t      *Tokenizer
	words  [][]int32
	counts []int64
	pairs  map[uint64]int64
	where  map[uint64][]int32
	heap   pairHeap
	byText map[string]int32 // token bytes -> id, to reuse a token two merges produce
	stamp  []int            // last merge step that touched each word
	step   int
}

func newTrainer(words []string, counts []int64, t *Tokenizer) *trainer {
	tr := &trainer{
		t: t, counts: counts, words: make([][]int32, len(words)),
		pairs: map[uint64]int64{}, where: map[uint64][]int32{},
		byText: map[string]int32{}, stamp: make([]int, len(words)),
	}
	for id, b := range t.tokens {
		if _, isAdded := t.addedByID[id]; !isAdded {
			tr.byText[string(b)] = int32(id)
		}
	}
	for w, s := range words {
		syms := make([]int32, len(s))
		for i := 0; i < len(s); i++ {
			syms[i] = t.model.byteID[s[i]]
		}
		tr.words[w] = syms
		for i := 0; i+1 < len(syms); i++ {
			k := pairKey(syms[i], syms[i+1])
			tr.pairs[k] += counts[w]
			if l := tr.where[k]; len(l) == 0 || l[len(l)-1] != int32(w) {
				tr.where[k] = append(l, int32(w))
			}
		}
	}
	for k, c := range tr.pairs {
		tr.heap = append(tr.heap, pairCount{k, c})
	}
	heap.Init(&tr.heap)
	return tr
}

// best returns the most frequent pair, refreshing stale heap entries.
func (tr *trainer) best() (a, b int32, ok bool) {
	for tr.heap.Len() > 0 {
		top := tr.heap[0]
		cur := tr.pairs[top.key]
		if cur != top.count {
			if cur > 0 {
				tr.heap[0].count = cur
				heap.Fix(&tr.heap, 0)
			} else {
				heap.Pop(&tr.heap)
			}
			continue
		}
		heap.Pop(&tr.heap)
		return int32(top.key >> 32), int32(uint32(top.key)), true
	}
	return 0, 0, false
}

// merge replaces every a b in the words holding it by one new token and
// returns that token's id.
func (tr *trainer) merge(a, b int32) int32 {
	t := tr.t
	text := string(t.tokens[a]) + string(t.tokens[b])
	id, ok := tr.byText[text]
	if !ok {
		id = int32(len(t.tokens))
		t.tokens = append(t.tokens, []byte(text))
		tr.byText[text] = id
	}
	tr.step++
	key := pairKey(a, b)
	touched := map[uint64]bool{}
	for _, w := range tr.where[key] {
		if tr.stamp[w] == tr.step {
			continue
		}
		tr.stamp[w] = tr.step
		old := tr.words[w]
		syms := make([]int32, 0, len(old))
		for i := 0; i < len(old); i++ {
			if i+1 < len(old) && old[i] == a && old[i+1] == b {
				syms = append(syms, id)
				i++
			} else {
				syms = append(syms, old[i])
			}
		}
		if len(syms) == len(old) {
			continue // a stale index entry
		}
		c := tr.counts[w]
		for i := 0; i+1 < len(old); i++ {
			tr.pairs[pairKey(old[i], old[i+1])] -= c
		}
		for i := 0; i+1 < len(syms); i++ {
			k := pairKey(syms[i], syms[i+1])
			tr.pairs[k] += c
			if syms[i] == id || syms[i+1] == id {
				touched[k] = true
				if l := tr.where[k]; len(l) == 0 || l[len(l)-1] != w {
					tr.where[k] = append(l, w)
				}
			}
		}
		tr.words[w] = syms
	}
	delete(tr.where, key)
	delete(tr.pairs, key)
	// Only pairs with the new token can have grown; push them in a fixed
	// order (the heap order is total, but keep the pushes reproducible too).
	keys := make([]uint64, 0, len(touched))
	for k := range touched {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return keys[i] < keys[j] })
	for _, k := range keys {
		if c := tr.pairs[k]; c > 0 {
			heap.Push(&tr.heap, pairCount{k, c})
		}
	}
	return id
}

type pairCount struct {
	key   uint64
	count int64
}

// pairHeap is a max-heap by count, then by smaller pair key.
type pairHeap []pairCount

func (h pairHeap) Len() int { return len(h) }
func (h pairHeap) Less(i, j int) bool {
	if h[i].count != h[j].count {
		return h[i].count > h[j].count
	}
	return h[i].key < h[j].key
}
func (h pairHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *pairHeap) Push(x any)   { *h = append(*h, x.(pairCount)) }
func (h *pairHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
