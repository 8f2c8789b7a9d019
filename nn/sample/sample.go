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
//
// It reads the row as few times as it can, because with a 150k vocabulary
// the passes over the row cost more than the model: the max, then the sum
// of exponentials (which gives the entropy and the log-probability too),
// then, when drawing from the whole distribution, the cumulative sum up to
// the drawn token only, the probabilities made on the fly a block at a
// time. The results are bitwise those of a full softmax followed by the
// same draw (the kernels make each exponential and sum the same way
// whichever pass asks).
func (s *Sampler) Sample(logits []float32, p Params, rng *RNG) Result {
	if len(logits) == 0 {
		panic("sample: empty logits")
	}
	t := p.Temperature
	if t == 0 {
		t = 1
	}
	x := logits
	if t != 1 {
		x = s.grow(len(logits))
		inv := 1 / t
		for i, v := range logits {
			x[i] = v * inv
		}
	}
	m := asm.Max(x)
	sum, sx := asm.ExpSums(x, m)
	ent := asm.EntropyOf(sum, sx)
	inv := 1 / sum
	var tok int
	switch {
	case p.Temperature == 0:
		tok = asm.Argmax(logits)
		if tok < 0 {
			tok = 0 // all NaN: the caller's model is broken; keep going
		}
	case keepAll(p, len(x)):
		tok = s.inverseCDF(x, m, inv, rng.Float32())
	default:
		probs := s.grow(len(x))
		asm.ExpSub(probs, x, m)
		asm.Scale(inv, probs)
		tok = s.draw(probs, p, rng)
	}
	return Result{Token: tok, LogProb: tokenLogProb(logits[tok]/t, m, inv), Entropy: ent}
}

// tokenLogProb returns log p of a token whose scaled logit is x, given the
// row's largest scaled logit m and inv = 1/sum(exp(x - m)). log p = x - lse,
// and the largest probability is exp(0)*inv = exp(m - lse), so lse = m -
// log(exp(0)*inv) (exp(0) as the kernels compute it, so that this is the
// value a full softmax's largest entry gives): exact even for tokens whose
// probability underflows float32.
func tokenLogProb(x, m, inv float32) float32 {
	var e0 [1]float32
	asm.ExpSub(e0[:], e0[:], 0)
	return x - (m - float32(math.Log(float64(e0[0]*inv))))
}

// grow returns the scratch row, n long.
func (s *Sampler) grow(n int) []float32 {
	if cap(s.probs) < n {
		s.probs = make([]float32, n)
	}
	return s.probs[:n]
}

// keepAll reports whether p draws from the whole distribution.
func keepAll(p Params, n int) bool {
	return (p.TopK == 0 || p.TopK >= n) && (p.TopP == 0 || p.TopP >= 1)
}

// cdfBlock is how many probabilities inverseCDF makes at a time.
const cdfBlock = 1024

// inverseCDF returns the first index whose cumulative probability exceeds
// u, where probability i is exp(x[i] - m)*inv, made a block at a time up to
// the index drawn (half the row on average) instead of for the whole row.
func (s *Sampler) inverseCDF(x []float32, m, inv, u float32) int {
	var buf [cdfBlock]float32
	var acc float32
	last := 0
	for lo := 0; lo < len(x); lo += cdfBlock {
		blk := buf[:min(cdfBlock, len(x)-lo)]
		asm.ExpSub(blk, x[lo:], m)
		asm.Scale(inv, blk)
		for i, v := range blk {
			if v > 0 {
				last = lo + i
			}
			acc += v
			if u < acc {
				return lo + i
			}
		}
	}
	return last // rounding left the total just below u
}

// draw picks a token index from probs (summing to 1) under top-k / top-p
// (Sample's inverseCDF draws from the whole distribution).
func (s *Sampler) draw(probs []float32, p Params, rng *RNG) int {
	u := rng.Float32()
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
