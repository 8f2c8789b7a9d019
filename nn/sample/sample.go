// Package sample draws the next token from a row of logits — greedy,
// temperature, top-k and top-p — and reports the log-probability and the
// entropy of the distribution it was drawn from, the quantities ARPO branches
// on. It also matches stop strings on streamed text.
//
// Every sequence owns its generator (RNG), seeded from the rollout's seed and
// the sequence's identity, so a sequence's tokens do not depend on which other
// sequences share its batch. What this package is not for: running the model;
// it sees one row of logits at a time.
package sample

import (
	"container/heap"
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/goarpo/arpo/asm"
)

// Params choose how a token is drawn.
type Params struct {
	// Temperature divides the logits; 0 means greedy (argmax). e.g. 1.0
	Temperature float32
	// TopK keeps the K most probable tokens; 0 keeps all. e.g. 50
	TopK int
	// TopP keeps the smallest set of most probable tokens whose mass reaches
	// TopP; 0 or 1 keeps all. e.g. 0.95
	TopP float32
}

// Validate reports parameters that cannot be used.
func (p Params) Validate() error {
	switch {
	case p.Temperature < 0 || math.IsNaN(float64(p.Temperature)) || math.IsInf(float64(p.Temperature), 0):
		return fmt.Errorf("temperature must be finite and >= 0, got %v", p.Temperature)
	case p.TopK < 0:
		return fmt.Errorf("top-k must be >= 0, got %d", p.TopK)
	case !(p.TopP >= 0 && p.TopP <= 1):
		return fmt.Errorf("top-p must be in [0, 1], got %v", p.TopP)
	}
	return nil
}

// RNG is a sequence's random generator: PCG, so its state is two words that
// a checkpoint or a fork can copy exactly.
type RNG struct{ pcg rand.PCG }

// NewRNG returns a generator for one sequence. seed is the run's seed and
// stream tells sequences apart (e.g. prompt index and sample index mixed by
// the caller); the same pair always gives the same draws.
func NewRNG(seed, stream uint64) *RNG {
	r := &RNG{}
	r.pcg.Seed(seed, stream^0x9e3779b97f4a7c15)
	return r
}

// Float32 returns a uniform number in [0, 1).
func (r *RNG) Float32() float32 { return float32(r.pcg.Uint64()>>40) / (1 << 24) }

// Uint64 returns a uniform 64-bit number.
func (r *RNG) Uint64() uint64 { return r.pcg.Uint64() }

// Clone returns an independent copy that continues the same stream.
func (r *RNG) Clone() *RNG { c := *r; return &c }

// MarshalBinary saves the generator's state.
func (r *RNG) MarshalBinary() ([]byte, error) { return r.pcg.MarshalBinary() }

// UnmarshalBinary restores a state saved by MarshalBinary.
func (r *RNG) UnmarshalBinary(b []byte) error { return r.pcg.UnmarshalBinary(b) }

// Result is one drawn token.
type Result struct {
	Token int
	// LogProb is log p(Token) under softmax(logits / T) before any top-k or
	// top-p truncation (T = 1 when greedy): the policy's own log-probability,
	// which is what PPO's old-policy ratio needs.
	LogProb float32
	// Entropy is the Shannon entropy (nats) of softmax(logits / T).
	Entropy float32
}

// Sampler draws tokens; it keeps scratch space so that drawing allocates
// nothing. A Sampler is not safe for concurrent use; use one per goroutine.
type Sampler struct {
	probs []float32
	cand  candHeap
}

// Sample draws a token from logits (vocab) with p and rng (rng may be nil
// when greedy). logits is not modified.
func (s *Sampler) Sample(logits []float32, p Params, rng *RNG) Result {
	if len(logits) == 0 {
		panic("sample: empty logits")
	}
	if cap(s.probs) < len(logits) {
		s.probs = make([]float32, len(logits))
	}
	probs := s.probs[:len(logits)]
	t := p.Temperature
	if t == 0 {
		t = 1
	}
	// probs holds the scaled logits first, then the probabilities.
	if t == 1 {
		copy(probs, logits)
	} else {
		inv := 1 / t
		for i, v := range logits {
			probs[i] = v * inv
		}
	}
	ent := asm.Entropy(probs)
	m := asm.Max(probs)
	asm.Softmax(probs, probs)
	var tok int
	if p.Temperature == 0 {
		tok = asm.Argmax(logits)
		if tok < 0 {
			tok = 0 // all NaN: the caller's model is broken; keep going
		}
	} else {
		tok = s.draw(probs, p, rng)
	}
	lp := tokenLogProb(logits[tok]/t, m, probs)
	return Result{Token: tok, LogProb: lp, Entropy: ent}
}

// draw picks a token index from probs (summing to 1) under top-k / top-p.
func (s *Sampler) draw(probs []float32, p Params, rng *RNG) int {
	u := rng.Float32()
	keepAll := (p.TopK == 0 || p.TopK >= len(probs)) && (p.TopP == 0 || p.TopP >= 1)
	if keepAll {
		return inverseCDF(probs, u)
	}
	// Pop the most probable tokens from a heap until top-k or top-p stops us:
	// O(V + kept*log V), cheap because the kept set is usually small.
	s.cand = s.cand[:0]
	for i, v := range probs {
		s.cand = append(s.cand, cand{i, v})
	}
	heap.Init(&s.cand)
	limit := len(probs)
	if p.TopK > 0 && p.TopK < limit {
		limit = p.TopK
	}
	topP := p.TopP
	if topP == 0 {
		topP = 1
	}
	kept := make([]cand, 0, 16)
	var mass float32
	for len(kept) < limit && s.cand.Len() > 0 {
		c := heap.Pop(&s.cand).(cand)
		kept = append(kept, c)
		mass += c.p
		if mass >= topP {
			break
		}
	}
	// Sample within the kept set, renormalised.
	target := u * mass
	var acc float32
	for _, c := range kept {
		acc += c.p
		if target < acc {
			return c.i
		}
	}
	return kept[len(kept)-1].i
}

// inverseCDF returns the first index whose cumulative probability exceeds u.
func inverseCDF(probs []float32, u float32) int {
	var acc float32
	last := 0
	for i, v := range probs {
		if v > 0 {
			last = i
		}
		acc += v
		if u < acc {
			return i
		}
	}
	return last // rounding left the total just below u
}

type cand struct {
	i int
	p float32
}

// candHeap is a max-heap on probability; ties go to the lower index so the
// order is total and draws are reproducible.
type candHeap []cand

func (h candHeap) Len() int { return len(h) }
func (h candHeap) Less(a, b int) bool {
	if h[a].p != h[b].p {
		return h[a].p > h[b].p
	}
	return h[a].i < h[b].i
}
func (h candHeap) Swap(a, b int) { h[a], h[b] = h[b], h[a] }
func (h *candHeap) Push(x any)   { *h = append(*h, x.(cand)) }
func (h *candHeap) Pop() any {
	old := *h
	c := old[len(old)-1]
	*h = old[:len(old)-1]
	return c
}

// tokenLogProb returns log p of a token whose scaled logit is x, given the
// row's largest scaled logit m and its softmax probs. log p = x - lse, and
// the softmax's largest value is exp(m - lse), so lse = m - log(max p): exact
// even for tokens whose probability underflows float32.
func tokenLogProb(x, m float32, probs []float32) float32 {
	return x - (m - float32(math.Log(float64(asm.Max(probs)))))
}
