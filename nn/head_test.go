package nn

import (
	"math/rand/v2"
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/stretchr/testify/require"
)

// headModel is a qwen2 model on a CPU backend with threads threads, its
// vocabulary large enough for several of the fused head's groups, with the
// fused head forced on (mode 1) or off (-1).
func headModel(t *testing.T, threads, mode int, tied bool) *Model {
	t.Helper()
	b, err := backend.Open("cpu", backend.Options{Threads: threads})
	if err != nil {
		t.Skipf("cpu backend unavailable: %v", err)
	}
	cfg := tinyConfigs()["qwen2-gqa-tied"]
	cfg.VocabSize, cfg.HiddenSize, cfg.HeadDim, cfg.TieWordEmbeddings = 3000, 24, 6, tied
	m, err := New(cfg, b)
	require.NoError(t, err)
	randomize(t, m, 3, 0.4)
	m.headMode = mode
	if _, ok := m.B.(backend.FusedHead); !ok && mode > 0 {
		t.Skip("the cpu backend has no fused head")
	}
	return m
}

// headRun runs LogProbs (with entropy) and BackwardLogProbs with a log-prob
// and an entropy gradient, as the RL update does, then CrossEntropy, and
// returns the log-probs, entropies, both gradients and the SFT loss.
func headRun(t *testing.T, m *Model) (logp, ent, grad, ceGrad []float32, ce float32) {
	t.Helper()
	rng := rand.New(rand.NewPCG(4, 4))
	seqs := Pack(60, 64, 60, 16)
	tokens := randTokens(rng, 200, m.Cfg.VocabSize)
	p, err := m.Forward(tokens, seqs)
	require.NoError(t, err)
	defer p.Free()
	targets := p.NextTokenTargets()
	logp, ent, err = p.LogProbs(targets, true)
	require.NoError(t, err)
	dlogp, dent := randSlice(rng, 200, 1), randSlice(rng, 200, 0.1)
	for i := 0; i < 200; i += 3 {
		dlogp[i], dent[i] = 0, 0 // rows without a gradient, as masked tokens
	}
	m.ZeroGrad()
	require.NoError(t, p.BackwardLogProbs(targets, dlogp, dent))
	_, _, g := m.Trainable()
	grad = readAll(t, g)

	mask := make([]float32, 200)
	for i := range mask {
		mask[i] = float32(i % 2)
	}
	m.ZeroGrad()
	ce, err = p.CrossEntropy(targets, mask, 0)
	require.NoError(t, err)
	return logp, ent, grad, readAll(t, g), ce
}

// TestFusedHeadMatchesChunked compares the fused LM head with the chunked
// one it replaces for large vocabularies: log-probs, entropies, the
// gradients of an RL-style loss (log-prob and entropy terms) and of the SFT
// loss, tied and untied.
func TestFusedHeadMatchesChunked(t *testing.T) {
	for _, tied := range []bool{true, false} {
		ref := headModel(t, 2, -1, tied)
		ref.chunk = 7
		lp0, ent0, g0, ce0g, ce0 := headRun(t, ref)
		lp, ent, g, ceg, ce := headRun(t, headModel(t, 2, 1, tied))
		checkRel(t, "logp", lp, lp0)
		checkRel(t, "entropy", ent, ent0)
		checkRel(t, "grad", g, g0)
		checkRel(t, "sft grad", ceg, ce0g)
		require.InDelta(t, ce0, ce, 1e-5*float64(ce0))
	}
}

// TestFusedHeadThreadInvariant: the fused head's results, and so the whole
// gradient, are bitwise the same on 1 and 3 threads.
func TestFusedHeadThreadInvariant(t *testing.T) {
	lp1, ent1, g1, ceg1, ce1 := headRun(t, headModel(t, 1, 1, false))
	lp3, ent3, g3, ceg3, ce3 := headRun(t, headModel(t, 3, 1, false))
	require.Equal(t, lp1, lp3)
	require.Equal(t, ent1, ent3)
	require.Equal(t, g1, g3)
	require.Equal(t, ceg1, ceg3)
	require.Equal(t, ce1, ce3)
}

// TestFusedHeadDefault: the fused head is used from fusedHeadMinVocab on,
// on backends that have it.
func TestFusedHeadDefault(t *testing.T) {
	m := headModel(t, 1, 0, true)
	require.Nil(t, m.fusedHead(), "vocabulary %d", m.Cfg.VocabSize)
	m.Cfg.VocabSize = fusedHeadMinVocab
	require.NotNil(t, m.fusedHead())
	m.headMode = -1
	require.Nil(t, m.fusedHead())
	r, err := New(tinyConfigs()["llama-bias"], refBackend{})
	require.NoError(t, err)
	r.headMode = 1
	require.Nil(t, r.fusedHead(), "the reference backend has no fused head")
}
