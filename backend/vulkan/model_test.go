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
	"github.com/goarpo/arpo/nn/engine"
	"github.com/goarpo/arpo/nn/nntest"
	"github.com/goarpo/arpo/nn/sample"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// trainRun takes steps optimizer steps of a small GQA model on b and
// returns the losses, gradient norms and final weights.
func trainRun(t *testing.T, b backend.Backend, steps int) (losses, norms, w []float32) {
	return trainRunAt(t, b, steps, nn.F32)
}

// trainRunAt is trainRun with the model's GEMMs in precision p.
func trainRunAt(t *testing.T, b backend.Backend, steps int, p nn.Precision) (losses, norms, w []float32) {
	t.Helper()
	cfg := nn.Config{ModelType: "qwen2", VocabSize: 97, HiddenSize: 48, NumLayers: 2, NumHeads: 6, NumKVHeads: 2,
		HeadDim: 8, IntermediateSize: 80, RopeTheta: 10000, RMSNormEps: 1e-6, TieWordEmbeddings: true,
		MaxPositionEmbeddings: 128, HiddenAct: "silu"}
	m, err := nn.New(cfg, b)
	require.NoError(t, err)
	defer m.Free()
	m.Init(5)
	require.NoError(t, m.SetPrecision(p))
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

// TestBF16TrainingStepsMatchCPU: mixed-precision training (SetPrecision(BF16):
// every linear product on GemmBF16, forward and backward) on Vulkan follows
// the CPU backend's within float32 noise: the bf16 operands are the same
// roundings, only the order of the float32 sums differs. Both differ from
// float32 training by far more, so the check tells the precisions apart.
func TestBF16TrainingStepsMatchCPU(t *testing.T) {
	b := open(t)
	const steps = 2
	gl, gn, gw := trainRunAt(t, b, steps, nn.BF16)
	wl, wn, ww := trainRunAt(t, cpu.New(0), steps, nn.BF16)
	fl, _, fw := trainRunAt(t, cpu.New(0), steps, nn.F32)
	for s := range steps {
		assert.InDelta(t, wl[s], gl[s], 1e-4*math.Abs(float64(wl[s])), "loss at step %d", s+1)
		assert.InDelta(t, wn[s], gn[s], 1e-3*math.Abs(float64(wn[s])), "gradient norm at step %d", s+1)
	}
	// Measured: 1e-4 from the CPU's bf16 weights, 7e-3 from float32's
	// (AdamW's first steps are nearly sign steps: small gradients' noise
	// shows in full).
	t.Logf("losses: vulkan bf16 %v, cpu bf16 %v, cpu f32 %v", gl, wl, fl)
	t.Logf("weights: vulkan bf16 vs cpu bf16: %v; vs cpu f32: %v", backendtest.Compare(gw, ww, 0), backendtest.Compare(gw, fw, 0))
	require.NoError(t, backendtest.Compare(gw, ww, 1e-3), "weights after %d steps", steps)
	require.Error(t, backendtest.Compare(gw, fw, 2e-3), "bf16 weights as close to float32 training's as to the CPU's bf16")
}

// TestBF16EngineMatchesCPU: the engine with a bf16 copy of the weights
// (SetPrecision(BF16): decode on GemmBF16 with bf16 B) gives the CPU
// backend's logits within float32 noise and the same greedy tokens, in a
// batch of two streams of different lengths; and logits unlike the
// float32 engine's, so the bf16 weights are in use.
func TestBF16EngineMatchesCPU(t *testing.T) {
	b := open(t)
	weights := func(p nn.Precision) func(*engine.Engine) error {
		return func(e *engine.Engine) error { return e.SetPrecision(p) }
	}
	o := engine.Options{BlockSize: 4}
	gl, gt := runTinyEngine(t, b, o, weights(nn.BF16), false)
	wl, wt := runTinyEngine(t, cpu.New(0), o, weights(nn.BF16), false)
	fl, _ := runTinyEngine(t, cpu.New(0), o, weights(nn.F32), false)
	// Measured: 8e-8 from the CPU's bf16 logits, 4e-3 from float32's.
	t.Logf("logits: vulkan bf16 vs cpu bf16: %v; vs cpu f32: %v", backendtest.Compare(gl, wl, 0), backendtest.Compare(gl, fl, 0))
	require.NoError(t, backendtest.Compare(gl, wl, 1e-5), "prefill logits")
	require.Error(t, backendtest.Compare(gl, fl, 1e-4), "bf16 logits as close to float32's as to the CPU's bf16")
	require.Equal(t, wt, gt, "greedy tokens")
}

// TestBF16CacheEngineMatchesCPU: the engine with a bf16 KV cache
// (SetCachePrecision(BF16): ScatterRowsBF16, CopyBF16, PagedAttentionBF16)
// gives the CPU backend's logits with a bf16 cache within float32 noise
// and the same greedy tokens, through a prefill, a fork mid-block (the
// copy of a shared block), growth of the cache from 2 blocks and batched
// decode; and logits unlike a float32 cache's, so the bf16 cache is in use.
func TestBF16CacheEngineMatchesCPU(t *testing.T) {
	b := open(t)
	cache := func(p nn.Precision) func(*engine.Engine) error {
		return func(e *engine.Engine) error { return e.SetCachePrecision(p) }
	}
	o := engine.Options{BlockSize: 4, InitialBlocks: 2}
	gl, gt := runTinyEngine(t, b, o, cache(nn.BF16), true)
	wl, wt := runTinyEngine(t, cpu.New(0), o, cache(nn.BF16), true)
	fl, _ := runTinyEngine(t, cpu.New(0), o, cache(nn.F32), true)
	// Measured: 4e-7 from the CPU's bf16-cache logits, 2e-3 from a float32 cache's.
	t.Logf("logits: vulkan bf16 cache vs cpu bf16 cache: %v; vs cpu f32 cache: %v", backendtest.Compare(gl, wl, 0), backendtest.Compare(gl, fl, 0))
	require.NoError(t, backendtest.Compare(gl, wl, 1e-5), "logits")
	require.Error(t, backendtest.Compare(gl, fl, 1e-5), "bf16-cache logits as close to a float32 cache's as to the CPU's bf16 cache")
	require.Equal(t, wt, gt, "greedy tokens")
}

// runTinyEngine runs a tiny qwen2 model with random weights on be through
// an engine with options o, set up by set: a prefill of 7 tokens (every
// row's logits), with fork a fork of it mid-block fed beside the parent,
// then greedy decode of 12 tokens for two streams of different lengths.
// It returns the logits of the forwards and each stream's tokens.
func runTinyEngine(t *testing.T, be backend.Backend, o engine.Options, set func(*engine.Engine) error, fork bool) (logits []float32, tokens [][]int32) {
	t.Helper()
	cfg := nn.Config{ModelType: "qwen2", VocabSize: 67, HiddenSize: 32, NumLayers: 2, NumHeads: 4, NumKVHeads: 2,
		HeadDim: 8, IntermediateSize: 48, RopeTheta: 10000, RMSNormEps: 1e-6, MaxPositionEmbeddings: 128,
		TieWordEmbeddings: true, HiddenAct: "silu"}
	prompts := [][]int32{{1, 5, 9, 14, 2, 33, 60}, {7, 7, 3}}
	const newTokens = 12
	m, err := nn.New(cfg, be)
	require.NoError(t, err)
	defer m.Free()
	nntest.RandomWeights(m, 3, 5, 0.3)
	e := engine.New(m, o)
	defer e.Close()
	require.NoError(t, set(e))
	s := e.NewSeq()
	got, err := e.Forward([]engine.Feed{{Seq: s, Tokens: prompts[0], All: true}})
	require.NoError(t, err)
	logits = append(logits, got...)
	if fork {
		f := e.Fork(s)
		got, err = e.Forward([]engine.Feed{{Seq: s, Tokens: []int32{4}}, {Seq: f, Tokens: []int32{8, 50, 21}, All: true}})
		require.NoError(t, err)
		logits = append(logits, got...)
		e.Release(f)
	}
	e.Release(s)
	var streams []*engine.Stream
	for i, pr := range prompts {
		streams = append(streams, e.NewStream(pr, sample.Params{}, sample.NewRNG(1, uint64(i)), len(pr)+newTokens, engine.GenConfig{}))
	}
	require.NoError(t, e.Generate(streams, engine.GenConfig{}))
	for i, st := range streams {
		require.Len(t, st.Tokens, newTokens, "stream %d", i)
		tokens = append(tokens, st.Tokens)
	}
	return logits, tokens
}
