package search

import (
	"container/heap"
	"math"
	"runtime"
	"sort"
	"sync"
)

// BM25 parameters; the defaults are Pyserini's (k1 = 0.9, b = 0.4), which
// Search-R1's BM25 baseline uses.
type Params struct {
	K1 float32 // e.g. 0.9: term-frequency saturation
	B  float32 // e.g. 0.4: document-length normalisation
}

// DefaultParams are Pyserini's BM25 defaults.
var DefaultParams = Params{K1: 0.9, B: 0.4}

// Index is an inverted index with BM25 ranking. Postings are stored flat:
// the postings of term t are Docs[Off[t]:Off[t+1]] with frequencies
// Freqs[Off[t]:Off[t+1]], document ids ascending. Search is safe for
// concurrent use; the index is immutable once built.
type Index struct {
	Params Params
	Docs   []Doc
	Terms  map[string]int32
	Off    []int64   // (V+1)
	Post   []int32   // (P) document ids
	Freqs  []uint16  // (P) term frequencies, saturated at 65535
	DocLen []int32   // (N) tokens per document
	idf    []float32 // (V)
	norm   []float32 // (N) k1*(1-b+b*len/avglen), the BM25 denominator term
	pool   sync.Pool // *scratch
}

type scratch struct {
	score   []float32 // (N), zero outside touched
	touched []int32
}

// Hit is one ranked passage.
type Hit struct {
	Doc   int32 // index into Index.Docs
	Score float32
}

// Build indexes docs, tokenizing on all CPUs. The result does not depend on
// the number of CPUs: term ids follow first appearance in document order.
func Build(docs []Doc, p Params) *Index {
	type tf struct {
		term string
		n    int
	}
	perDoc := make([][]tf, len(docs))
	lens := make([]int32, len(docs))
	workers := runtime.GOMAXPROCS(0)
	var wg sync.WaitGroup
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			counts := map[string]int{}
			for i := w; i < len(docs); i += workers {
				toks := Tokenize(docs[i].Title + " " + docs[i].Text)
				lens[i] = int32(len(toks))
				for _, t := range toks {
					counts[t]++
				}
				list := make([]tf, 0, len(counts))
				for t, n := range counts {
					list = append(list, tf{t, n})
				}
				// Map order is random; sort so term ids are deterministic.
				sort.Slice(list, func(a, b int) bool { return list[a].term < list[b].term })
				perDoc[i] = list
				clear(counts)
			}
		}()
	}
	wg.Wait()

	ix := &Index{Params: p, Docs: docs, Terms: map[string]int32{}, DocLen: lens}
	var df []int64
	ids := make([][]int32, len(docs))
	for i, list := range perDoc {
		ids[i] = make([]int32, len(list))
		for j, e := range list {
			id, ok := ix.Terms[e.term]
			if !ok {
				id = int32(len(df))
				ix.Terms[e.term] = id
				df = append(df, 0)
			}
			df[id]++
			ids[i][j] = id
		}
	}
	ix.Off = make([]int64, len(df)+1)
	for t, n := range df {
		ix.Off[t+1] = ix.Off[t] + n
	}
	ix.Post = make([]int32, ix.Off[len(df)])
	ix.Freqs = make([]uint16, ix.Off[len(df)])
	fill := append([]int64(nil), ix.Off[:len(df)]...)
	for d, list := range perDoc {
		for j, e := range list {
			t := ids[d][j]
			ix.Post[fill[t]] = int32(d)
			ix.Freqs[fill[t]] = uint16(min(e.n, math.MaxUint16))
			fill[t]++
		}
	}
	ix.prepare()
	return ix
}

// prepare computes what is derived from the stored fields: idf and the
// per-document length norm. Load calls it too, so they are never saved.
func (ix *Index) prepare() {
	n := float64(len(ix.Docs))
	ix.idf = make([]float32, len(ix.Off)-1)
	for t := range ix.idf {
		df := float64(ix.Off[t+1] - ix.Off[t])
		// Lucene's idf, always positive.
		ix.idf[t] = float32(math.Log(1 + (n-df+0.5)/(df+0.5)))
	}
	var total float64
	for _, l := range ix.DocLen {
		total += float64(l)
	}
	avg := float32(1)
	if len(ix.DocLen) > 0 && total > 0 {
		avg = float32(total / n)
	}
	ix.norm = make([]float32, len(ix.DocLen))
	for d, l := range ix.DocLen {
		ix.norm[d] = ix.Params.K1 * (1 - ix.Params.B + ix.Params.B*float32(l)/avg)
	}
	ix.pool.New = func() any { return &scratch{score: make([]float32, len(ix.Docs))} }
}

// Search returns the top k passages for query, best first; ties go to the
// lower document index so results are deterministic.
func (ix *Index) Search(query string, k int) []Hit {
	if k <= 0 || len(ix.Docs) == 0 {
		return nil
	}
	terms := Tokenize(query)
	sort.Strings(terms)
	s := ix.pool.Get().(*scratch)
	defer ix.pool.Put(s)
	k1 := ix.Params.K1 + 1
	for i, term := range terms {
		if i > 0 && term == terms[i-1] {
			continue // a repeated query word counts once
		}
		t, ok := ix.Terms[term]
		if !ok {
			continue
		}
		idf := ix.idf[t]
		lo, hi := ix.Off[t], ix.Off[t+1]
		for p := lo; p < hi; p++ {
			d := ix.Post[p]
			f := float32(ix.Freqs[p])
			if s.score[d] == 0 {
				s.touched = append(s.touched, d)
			}
			s.score[d] += idf * f * k1 / (f + ix.norm[d])
		}
	}
	h := make(hitHeap, 0, k+1)
	for _, d := range s.touched {
		hit := Hit{Doc: d, Score: s.score[d]}
		s.score[d] = 0
		if len(h) < k {
			heap.Push(&h, hit)
		} else if better(hit, h[0]) {
			h[0] = hit
			heap.Fix(&h, 0)
		}
	}
	s.touched = s.touched[:0]
	out := make([]Hit, len(h))
	for i := len(h) - 1; i >= 0; i-- {
		out[i] = heap.Pop(&h).(Hit)
	}
	return out
}

// Passages returns the documents of hits.
func (ix *Index) Passages(hits []Hit) []Doc {
	out := make([]Doc, len(hits))
	for i, h := range hits {
		out[i] = ix.Docs[h.Doc]
	}
	return out
}

func better(a, b Hit) bool {
	if a.Score != b.Score {
		return a.Score > b.Score
	}
	return a.Doc < b.Doc
}

// hitHeap is a min-heap on "better", so the worst of the current top k is
// at the root.
type hitHeap []Hit

func (h hitHeap) Len() int           { return len(h) }
func (h hitHeap) Less(i, j int) bool { return better(h[j], h[i]) }
func (h hitHeap) Swap(i, j int)      { h[i], h[j] = h[j], h[i] }
func (h *hitHeap) Push(x any)        { *h = append(*h, x.(Hit)) }
func (h *hitHeap) Pop() any {
	old := *h
	x := old[len(old)-1]
	*h = old[:len(old)-1]
	return x
}
