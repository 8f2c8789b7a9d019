package sample

import (
	"github.com/goarpo/arpo/asm"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// refLogSoftmax is the float64 reference of log softmax(x / t).
func refLogSoftmax(x []float32, t float64) []float64 {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, float64(v)/t)
	}
	var s float64
	for _, v := range x {
		s += math.Exp(float64(v)/t - m)
	}
	out := make([]float64, len(x))
	for i, v := range x {
		out[i] = float64(v)/t - m - math.Log(s)
	}
	return out
}

func refEntropy(lp []float64) float64 {
	var h float64
	for _, l := range lp {
		h -= math.Exp(l) * l
	}
	return h
}

func randomLogits(r *rand.Rand, n int, scale float32) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = float32(r.NormFloat64()) * scale
	}
	return x
}

func TestGreedyLogProbAndEntropy(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	var s Sampler
	for _, n := range []int{1, 2, 7, 100, 5000} {
		x := randomLogits(r, n, 4)
		res := s.Sample(x, Params{}, nil)
		lp := refLogSoftmax(x, 1)
		best := 0
		for i := range x {
			if x[i] > x[best] {
				best = i
			}
		}
		require.Equal(t, best, res.Token, "n=%d", n)
		assert.InDelta(t, lp[best], float64(res.LogProb), 1e-5, "n=%d", n)
		assert.InDelta(t, refEntropy(lp), float64(res.Entropy), 1e-4, "n=%d", n)
	}
}

func TestTemperatureLogProbIsOfScaledDistribution(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	var s Sampler
	x := randomLogits(r, 300, 3)
	rng := NewRNG(7, 1)
	for i := 0; i < 50; i++ {
		res := s.Sample(x, Params{Temperature: 0.6}, rng)
		lp := refLogSoftmax(x, 0.6)
		assert.InDelta(t, lp[res.Token], float64(res.LogProb), 1e-4)
		assert.InDelta(t, refEntropy(lp), float64(res.Entropy), 1e-4)
	}
}

func TestLogProbOfVeryUnlikelyTokenIsExact(t *testing.T) {
	// p(token 1) = e^-200 underflows float32; its log-probability must not.
	x := []float32{0, -200, -1}
	probs := make([]float32, len(x))
	asm.Softmax(probs, x)
	require.Zero(t, probs[1], "the probability itself underflows")
	lp := refLogSoftmax(x, 1)
	sum, _ := asm.ExpSums(x, 0)
	for tok := range x {
		assert.InDelta(t, lp[tok], float64(tokenLogProb(x[tok], 0, 1/sum)), 1e-5, "token %d", tok)
	}
}

func TestSamplingFrequenciesFollowProbabilities(t *testing.T) {
	x := []float32{0, float32(math.Log(2)), float32(math.Log(3)), float32(math.Log(4))} // p = 0.1 .. 0.4
	var s Sampler
	rng := NewRNG(42, 0)
	counts := make([]int, len(x))
	const n = 40000
	for i := 0; i < n; i++ {
		counts[s.Sample(x, Params{Temperature: 1}, rng).Token]++
	}
	for i, c := range counts {
		want := float64(i+1) / 10
		assert.InDelta(t, want, float64(c)/n, 0.01, "token %d", i)
	}
}

func TestTopKAndTopPStayInTheirSets(t *testing.T) {
	r := rand.New(rand.NewPCG(5, 6))
	var s Sampler
	x := randomLogits(r, 1000, 2)
	lp := refLogSoftmax(x, 1)
	// Rank tokens by probability.
	order := make([]int, len(x))
	for i := range order {
		order[i] = i
	}
	for i := 1; i < len(order); i++ { // insertion sort, descending, ties by index
		for j := i; j > 0 && (lp[order[j]] > lp[order[j-1]]); j-- {
			order[j], order[j-1] = order[j-1], order[j]
		}
	}
	rank := make([]int, len(x))
	for r, i := range order {
		rank[i] = r
	}
	// Nucleus of 0.5: the smallest prefix of order with mass >= 0.5.
	var mass float64
	nucleus := 0
	for mass < 0.5 {
		mass += math.Exp(lp[order[nucleus]])
		nucleus++
	}
	rng := NewRNG(9, 9)
	seenK := map[int]bool{}
	for i := 0; i < 3000; i++ {
		k := s.Sample(x, Params{Temperature: 1, TopK: 5}, rng)
		require.Less(t, rank[k.Token], 5)
		seenK[k.Token] = true
		p := s.Sample(x, Params{Temperature: 1, TopP: 0.5}, rng)
		require.Less(t, rank[p.Token], nucleus)
		// Reported quantities stay those of the untruncated distribution.
		require.InDelta(t, lp[k.Token], float64(k.LogProb), 1e-4)
	}
	assert.Len(t, seenK, 5, "every token of the top 5 should appear in 3000 draws")
}

func TestRNGReproducibleAndClonable(t *testing.T) {
	a, b := NewRNG(11, 3), NewRNG(11, 3)
	c := NewRNG(11, 4)
	same, diff := true, false
	for i := 0; i < 100; i++ {
		x, y, z := a.Uint64(), b.Uint64(), c.Uint64()
		same = same && x == y
		diff = diff || x != z
	}
	assert.True(t, same)
	assert.True(t, diff, "different streams must differ")
	d := a.Clone()
	assert.Equal(t, a.Uint64(), d.Uint64())
	state, err := a.MarshalBinary()
	require.NoError(t, err)
	e := NewRNG(0, 0)
	require.NoError(t, e.UnmarshalBinary(state))
	assert.Equal(t, a.Uint64(), e.Uint64())
}

func TestParamsValidate(t *testing.T) {
	assert.NoError(t, Params{Temperature: 1, TopK: 5, TopP: 0.9}.Validate())
	assert.Error(t, Params{Temperature: -1}.Validate())
	assert.Error(t, Params{Temperature: float32(math.NaN())}.Validate())
	assert.Error(t, Params{TopK: -2}.Validate())
	assert.Error(t, Params{TopP: 1.5}.Validate())
	assert.Error(t, Params{TopP: float32(math.NaN())}.Validate())
}

func TestStopMatcherAcrossPieces(t *testing.T) {
	m := NewStopMatcher([]string{"</search>", "</python>", "</answer>", ""})
	pieces := []string{"<search> capital of Vel", "ora </sea", "rch", ">\nrest"}
	var got string
	var after int
	for i, p := range pieces {
		s, a, ok := m.Feed(p)
		if ok {
			got, after = s, a
			require.Equal(t, 3, i, "stop must fire on the piece that completes it")
			break
		}
	}
	assert.Equal(t, "</search>", got)
	assert.Equal(t, len("\nrest"), after)

	// A match already reported (in the tail) does not fire again.
	m2 := NewStopMatcher([]string{"</a>"})
	_, _, ok := m2.Feed("x</a>")
	require.True(t, ok)
	_, _, ok = m2.Feed("y")
	assert.False(t, ok)
	_, _, ok = m2.Feed("</")
	assert.False(t, ok)
	s, after, ok := m2.Feed("a>z")
	assert.True(t, ok)
	assert.Equal(t, "</a>", s)
	assert.Equal(t, 1, after)

	// The earliest-ending stop wins when two complete in one piece.
	m3 := NewStopMatcher([]string{"</answer>", "</python>"})
	s, _, ok = m3.Feed("a</python> b</answer>")
	assert.True(t, ok)
	assert.Equal(t, "</python>", s)

	// Clones are independent.
	m4 := NewStopMatcher([]string{"</x>"})
	m4.Feed("</")
	c := m4.Clone()
	_, _, ok = c.Feed("x>")
	assert.True(t, ok)
	_, _, ok = m4.Feed("y>")
	assert.False(t, ok)
}
