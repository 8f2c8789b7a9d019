package sample

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/goarpo/arpo/asm"
	"github.com/stretchr/testify/require"
)

// fullSoftmaxSample is how Sample worked before it read the row fewer
// times: the whole softmax, then the draw over all probabilities, then
// log p from the largest probability. Sample must give bitwise its results.
func fullSoftmaxSample(logits []float32, p Params, rng *RNG) Result {
	probs := make([]float32, len(logits))
	t := p.Temperature
	if t == 0 {
		t = 1
	}
	for i, v := range logits {
		probs[i] = v
		if t != 1 {
			probs[i] = v * (1 / t)
		}
	}
	ent := asm.Entropy(probs)
	m := asm.Max(probs)
	asm.Softmax(probs, probs)
	var tok int
	switch {
	case p.Temperature == 0:
		tok = max(asm.Argmax(logits), 0)
	case keepAll(p, len(probs)):
		u := rng.Float32()
		var acc float32
		tok = -1
		last := 0
		for i, v := range probs {
			if v > 0 {
				last = i
			}
			acc += v
			if u < acc {
				tok = i
				break
			}
		}
		if tok < 0 {
			tok = last
		}
	default:
		var s Sampler
		tok = s.draw(probs, p, rng)
	}
	lp := logits[tok]/t - (m - float32(math.Log(float64(asm.Max(probs)))))
	return Result{Token: tok, LogProb: lp, Entropy: ent}
}

func TestSampleMatchesFullSoftmaxBitwise(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	params := []Params{{}, {Temperature: 1}, {Temperature: 0.6}, {Temperature: 1.3, TopP: 0.9}, {Temperature: 1, TopK: 5}}
	var s Sampler
	for _, n := range []int{1, 3, 1000, 1025, 5000, 151_936} {
		for trial := 0; trial < 6; trial++ {
			scale := []float32{0.01, 1, 4, 30, 1, 4}[trial]
			x := randomLogits(r, n, scale)
			if trial == 5 && n > 3 {
				x[n/2] = 50 // one token takes nearly all the mass
			}
			for pi, p := range params {
				if (p.TopK > 0 || p.TopP > 0) && n > 5000 {
					continue // the heap path is unchanged; keep the test fast
				}
				a, b := NewRNG(uint64(trial), uint64(pi)), NewRNG(uint64(trial), uint64(pi))
				for k := 0; k < 3; k++ {
					got, want := s.Sample(x, p, a), fullSoftmaxSample(x, p, b)
					require.Equal(t, want.Token, got.Token, "n=%d trial %d params %+v", n, trial, p)
					require.Equal(t, math.Float32bits(want.LogProb), math.Float32bits(got.LogProb), "logp n=%d trial %d params %+v", n, trial, p)
					require.Equal(t, math.Float32bits(want.Entropy), math.Float32bits(got.Entropy), "entropy n=%d trial %d params %+v", n, trial, p)
				}
			}
		}
	}
}
