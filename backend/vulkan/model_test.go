//go:build vulkan && cgo

package vulkan

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/backend/backendtest"
	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/nn"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trainRun takes steps optimizer steps of a small GQA model on b and
// returns the losses, gradient norms and final weights.
func trainRun(t *testing.T, b backend.Backend, steps int) (losses, norms, w []float32) {
	t.Helper()
	cfg := nn.Config{ModelType: "qwen2", VocabSize: 97, HiddenSize: 48, NumLayers: 2, NumHeads: 6, NumKVHeads: 2,
		HeadDim: 8, IntermediateSize: 80, RopeTheta: 10000, RMSNormEps: 1e-6, TieWordEmbeddings: true,
		MaxPositionEmbeddings: 128, HiddenAct: "silu"}
	m, err := nn.New(cfg, b)
	require.NoError(t, err)
	defer m.Free()
	m.Init(5)
	opt, err := nn.NewAdamW(m, nn.DefaultAdamW(3e-3))
	require.NoError(t, err)
	defer opt.Free()
	rng := rand.New(rand.NewPCG(11, 12))
	lens := []int{37, 1, 64, 19}
	tokens := make([]int32, 37+1+64+19)
	for i := range tokens {
		tokens[i] = int32(rng.IntN(cfg.VocabSize))
	}
	for s := 0; s < steps; s++ {
		m.ZeroGrad()
		loss, info, err := nn.TrainStep(m, opt, []nn.Batch{{Tokens: tokens, Lens: lens}})
		require.NoError(t, err)
		losses = append(losses, loss)
		norms = append(norms, info.GradNorm)
	}
	w, err = m.W.Data()
	require.NoError(t, err)
	return losses, norms, w
}

// TestTrainingStepsMatchCPU runs a full forward, backward and AdamW update
// of a small model on both backends.
func TestTrainingStepsMatchCPU(t *testing.T) {
	b := open(t)
	const steps = 3
	gl, gn, gw := trainRun(t, b, steps)
	wl, wn, ww := trainRun(t, cpu.New(0), steps)
	for s := range steps {
		assert.InDelta(t, wl[s], gl[s], 1e-4*math.Abs(float64(wl[s])), "loss at step %d", s+1)
		assert.InDelta(t, wn[s], gn[s], 1e-3*math.Abs(float64(wn[s])), "gradient norm at step %d", s+1)
	}
	assert.Less(t, gl[steps-1], gl[0], "the loss on a repeated batch goes down")
	require.NoError(t, backendtest.Compare(gw, ww, 1e-3), "weights after %d steps", steps)
	d, bar, sub := b.Stats()
	t.Logf("losses vulkan %v cpu %v; %d dispatches, %d barriers, %d submissions", gl, wl, d, bar, sub)
}
