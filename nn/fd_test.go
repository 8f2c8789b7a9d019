package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/goarpo/arpo/tensor"
	"github.com/stretchr/testify/require"
)

// The finite-difference checks compare each backward with central
// differences of its forward, for a random linear functional of the output
// (loss = sum(R * out)). They run on the float64-accumulating reference
// backend, where float32 storage limits the agreement to about 1e-3.

const fdEps = 1e-2

// fdCheck perturbs sampled elements of x (host copy xs, written back through
// set) and compares (loss(x+e) - loss(x-e)) / 2e with grad.
func fdCheck(t *testing.T, name string, xs []float32, set func([]float32), loss func() float64, grad []float32, samples int, rng *rand.Rand) {
	t.Helper()
	gmax := 0.0
	for _, g := range grad {
		gmax = math.Max(gmax, math.Abs(float64(g)))
	}
	for s := 0; s < samples; s++ {
		i := rng.IntN(len(xs))
		orig := xs[i]
		xs[i] = orig + fdEps
		set(xs)
		lp := loss()
		xs[i] = orig - fdEps
		set(xs)
		lm := loss()
		xs[i] = orig
		set(xs)
		num := (lp - lm) / (2 * fdEps)
		require.InDelta(t, num, float64(grad[i]), 2e-2*math.Max(gmax, 1e-2)+1e-3*math.Abs(num),
			"%s[%d]: finite difference %g, backward %g", name, i, num, grad[i])
	}
}

func dot64(a, b []float32) float64 {
	var s float64
	for i := range a {
		s += float64(a[i]) * float64(b[i])
	}
	return s
}

func randSlice(rng *rand.Rand, n int, std float64) []float32 {
	v := make([]float32, n)
	for i := range v {
		v[i] = float32(rng.NormFloat64() * std)
	}
	return v
}

// TestFDModelParams checks every parameter's gradient (embedding, norms,
// q/k/v/o with biases, MLP, LM head, tied or not) through Pass.Backward.
func TestFDModelParams(t *testing.T) {
	b := refBackend{}
	for name, cfg := range tinyConfigs() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 7))
			m, err := New(cfg, b)
			require.NoError(t, err)
			randomize(t, m, 3, 0.5)
			seqs := Pack(5, 3, 6)
			tokens := randTokens(rng, 14, cfg.VocabSize)
			R := randSlice(rng, 14*cfg.VocabSize, 1)
			loss := func() float64 {
				p, err := m.Forward(tokens, seqs)
				require.NoError(t, err)
				defer p.Free()
				lg := p.Logits()
				defer lg.Free()
				return dot64(readAll(t, lg), R)
			}
			p, err := m.Forward(tokens, seqs)
			require.NoError(t, err)
			m.ZeroGrad()
			p.Backward(tensor.FromSlice(b, R, 14, cfg.VocabSize))
			p.Free()
			for _, prm := range m.Params {
				w, g := readAll(t, prm.W), readAll(t, prm.G)
				fdCheck(t, prm.Name, w, prm.W.Set, loss, g, 4, rng)
			}
		})
	}
}

// TestFDLayerInput checks one decoder layer's gradient with respect to its
// input (the residual stream), on a batch of three sequences.
func TestFDLayerInput(t *testing.T) {
	b := refBackend{}
	for name, cfg := range tinyConfigs() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(8, 8))
			m, err := New(cfg, b)
			require.NoError(t, err)
			randomize(t, m, 4, 0.5)
			seqs := Pack(4, 1, 5)
			T, C := 10, cfg.HiddenSize
			pos, err := m.checkBatch(make([]int32, T), seqs)
			require.NoError(t, err)
			xs := randSlice(rng, T*C, 1)
			x := tensor.FromSlice(b, xs, T, C)
			R := randSlice(rng, T*C, 1)
			l := &m.Layers[1]
			run := func() []float32 {
				var a layerActs
				out := tensor.New(b, T, C)
				l.forward(&cfg, &a, out, x, pos, seqs)
				return readAll(t, out)
			}
			var a layerActs
			out := tensor.New(b, T, C)
			l.forward(&cfg, &a, out, x, pos, seqs)
			dx := tensor.FromSlice(b, R, T, C)
			l.backward(&cfg, &a, dx, x, pos, seqs)
			fdCheck(t, "dx", xs, x.Set, func() float64 { return dot64(run(), R) }, readAll(t, dx), 12, rng)
		})
	}
}

// TestFDLogProbs checks BackwardLogProbs with both a log-prob and an entropy
// gradient, against finite differences of LogProbs, with the LM head split
// into several row chunks.
func TestFDLogProbs(t *testing.T) {
	b := refBackend{}
	cfg := tinyConfigs()["qwen2-gqa-tied"]
	rng := rand.New(rand.NewPCG(9, 9))
	m, err := New(cfg, b)
	require.NoError(t, err)
	randomize(t, m, 5, 0.5)
	m.chunk = 3 // 10 rows in chunks of 3, 3, 3, 1
	seqs := Pack(6, 4)
	tokens := randTokens(rng, 10, cfg.VocabSize)
	targets := append(tokens[1:6:6], -1, 2, 0, 1, -1)
	wl, we := randSlice(rng, 10, 1), randSlice(rng, 10, 1)
	loss := func() float64 {
		p, err := m.Forward(tokens, seqs)
		require.NoError(t, err)
		defer p.Free()
		lp, ent, err := p.LogProbs(targets, true)
		require.NoError(t, err)
		return dot64(lp, wl) + dot64(ent, we)
	}
	p, err := m.Forward(tokens, seqs)
	require.NoError(t, err)
	m.ZeroGrad()
	require.NoError(t, p.BackwardLogProbs(targets, wl, we))
	p.Free()
	for _, prm := range m.Params {
		fdCheck(t, prm.Name, readAll(t, prm.W), prm.W.Set, loss, readAll(t, prm.G), 3, rng)
	}
}
