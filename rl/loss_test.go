package rl

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var defaultLoss = LossConfig{EpsLow: 0.2, EpsHigh: 0.28, DualClip: 3, Agg: TokenMean}

func one(logp, old, adv float32) PolicyTokens {
	return PolicyTokens{LogProb: []float32{logp}, OldLogProb: []float32{old}, Adv: []float32{adv}, Mask: []float32{1}, SeqID: []int32{0}}
}

func TestPolicyLossClipCases(t *testing.T) {
	norm := Normaliser{Tokens: 1, Seqs: 1}
	ln := func(x float64) float32 { return float32(math.Log(x)) }
	cases := []struct {
		name          string
		ratio, adv    float64
		loss, grad    float64
		clipped, dual int
	}{
		{"inside", 1.1, 2, -1.1 * 2, -1.1 * 2, 0, 0},
		{"positive adv above eps-high", 1.5, 2, -1.28 * 2, 0, 1, 0},
		{"positive adv below eps-low keeps gradient", 0.5, 2, -0.5 * 2, -0.5 * 2, 0, 0},
		{"negative adv below eps-low", 0.5, -1, 0.8, 0, 1, 0},
		{"negative adv above eps-high keeps gradient", 2, -1, 2, 2, 0, 0},
		{"negative adv dual clip", 5, -1, 3, 0, 0, 1},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			loss, d, dent, st := PolicyLoss(defaultLoss, one(ln(c.ratio), 0, float32(c.adv)), norm)
			assert.InDelta(t, c.loss, loss, 1e-5)
			assert.InDelta(t, c.grad, float64(d[0]), 1e-5)
			assert.Nil(t, dent)
			assert.Equal(t, c.clipped, st.Clipped)
			assert.Equal(t, c.dual, st.DualClipped)
		})
	}
}

func TestAggregationWeights(t *testing.T) {
	// Two sequences: 3 loss tokens and 1 loss token (plus a masked one).
	in := PolicyTokens{
		LogProb:    []float32{0, 0, 0, 0, 0},
		OldLogProb: []float32{0, 0, 0, 0, 0},
		Adv:        []float32{1, 1, 1, 1, 1},
		Mask:       []float32{1, 1, 1, 0, 1},
		SeqID:      []int32{0, 0, 0, 1, 1},
	}
	norm := Normaliser{Tokens: 4, Seqs: 2}
	cfg := defaultLoss
	loss, _, _, _ := PolicyLoss(cfg, in, norm)
	assert.InDelta(t, -1, loss, 1e-9) // mean of four -1s
	cfg.Agg = SeqMeanTokenMean
	loss, d, _, _ := PolicyLoss(cfg, in, norm)
	assert.InDelta(t, -1, loss, 1e-9)
	assert.InDelta(t, -1.0/6, float64(d[0]), 1e-7) // 1/(3 tokens * 2 seqs)
	assert.InDelta(t, -1.0/2, float64(d[4]), 1e-7)
	assert.Zero(t, d[3])
	cfg.Agg = SeqMeanTokenSum
	loss, _, _, _ = PolicyLoss(cfg, in, norm)
	assert.InDelta(t, -2, loss, 1e-9) // (-3 + -1) / 2
}

// refLogSoftmax64 returns log softmax(x) and the entropy, in float64.
func refLogSoftmax64(x []float64) ([]float64, float64) {
	m := math.Inf(-1)
	for _, v := range x {
		m = math.Max(m, v)
	}
	var s float64
	for _, v := range x {
		s += math.Exp(v - m)
	}
	lp := make([]float64, len(x))
	var h float64
	for i, v := range x {
		lp[i] = v - m - math.Log(s)
		h -= math.Exp(lp[i]) * lp[i]
	}
	return lp, h
}

// TestPolicyLossGradientThroughLogits checks the closed-form gradient of the
// whole loss (PPO + KL + entropy bonus) with respect to the logits against
// central finite differences.
func TestPolicyLossGradientThroughLogits(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 1))
	const N, V = 6, 5
	logits := make([][]float64, N)
	targets := make([]int, N)
	old := make([]float32, N)
	ref := make([]float32, N)
	adv := make([]float32, N)
	mask := []float32{1, 1, 0, 1, 1, 1}
	seq := []int32{0, 0, 0, 1, 1, 1}
	for i := range logits {
		logits[i] = make([]float64, V)
		for j := range logits[i] {
			logits[i][j] = r.NormFloat64()
		}
		targets[i] = r.IntN(V)
		lp, _ := refLogSoftmax64(logits[i])
		// Old log-probs near the current ones, some outside the clip range.
		old[i] = float32(lp[targets[i]] + r.NormFloat64()*0.3)
		ref[i] = float32(lp[targets[i]] + r.NormFloat64()*0.2)
		adv[i] = float32(r.NormFloat64())
	}
	cfg := LossConfig{EpsLow: 0.2, EpsHigh: 0.28, DualClip: 3, Agg: SeqMeanTokenMean, KLCoef: 0.1, EntropyCoef: 0.05}
	norm := Normaliser{Tokens: 5, Seqs: 2}
	eval := func() (float64, []float32, []float32, [][]float64, []float64) {
		in := PolicyTokens{OldLogProb: old, RefLogProb: ref, Adv: adv, Mask: mask, SeqID: seq}
		lps := make([][]float64, N)
		hs := make([]float64, N)
		for i := range logits {
			lp, h := refLogSoftmax64(logits[i])
			lps[i], hs[i] = lp, h
			in.LogProb = append(in.LogProb, float32(lp[targets[i]]))
			in.Entropy = append(in.Entropy, float32(h))
		}
		loss, dlp, dent, _ := PolicyLoss(cfg, in, norm)
		return loss, dlp, dent, lps, hs
	}
	_, dlp, dent, lps, hs := eval()
	const h = 1e-3
	for i := range logits {
		for j := range logits[i] {
			p := math.Exp(lps[i][j])
			onehot := 0.0
			if j == targets[i] {
				onehot = 1
			}
			analytic := float64(dlp[i])*(onehot-p) - float64(dent[i])*p*(lps[i][j]+hs[i])
			x := logits[i][j]
			logits[i][j] = x + h
			lplus, _, _, _, _ := eval()
			logits[i][j] = x - h
			lminus, _, _, _, _ := eval()
			logits[i][j] = x
			numeric := (lplus - lminus) / (2 * h)
			// float32 inputs to the loss limit the finite difference to ~1e-4.
			require.InDelta(t, numeric, analytic, 2e-4, "token %d logit %d", i, j)
		}
	}
}

func TestLossConfigValidate(t *testing.T) {
	assert.NoError(t, defaultLoss.Validate())
	bad := []LossConfig{
		{EpsLow: -0.1, EpsHigh: 0.2, Agg: TokenMean},
		{EpsLow: 0.2, EpsHigh: 0.2, DualClip: 0.5, Agg: TokenMean},
		{EpsLow: 0.2, EpsHigh: 0.2, Agg: "sum"},
		{EpsLow: 0.2, EpsHigh: 0.2, Agg: TokenMean, KLCoef: -1},
		{EpsLow: float32(math.NaN()), EpsHigh: 0.2, Agg: TokenMean},
	}
	for _, c := range bad {
		assert.Error(t, c.Validate(), "%+v", c)
	}
}
