package nn

import (
	"math"
	"math/rand/v2"
	"path/filepath"
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/internal/shareddata"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestInitIsSeededAndHasDocumentedStats(t *testing.T) {
	cfg := tinyConfigs()["llama-bias"]
	cfg.HiddenSize, cfg.VocabSize = 64, 100
	a, err := New(cfg, refBackend{})
	require.NoError(t, err)
	b, err := New(cfg, refBackend{})
	require.NoError(t, err)
	a.Init(42)
	b.Init(42)
	assert.Equal(t, readAll(t, a.W), readAll(t, b.W))
	b.Init(43)
	assert.NotEqual(t, readAll(t, a.W), readAll(t, b.W))

	emb := readAll(t, a.Embed)
	var s, ss float64
	for _, v := range emb {
		s += float64(v)
		ss += float64(v) * float64(v)
	}
	n := float64(len(emb))
	assert.InDelta(t, 0, s/n, 0.002)
	assert.InDelta(t, a.InitStd(), math.Sqrt(ss/n-(s/n)*(s/n)), 0.002, "std")
	for _, v := range readAll(t, a.Layers[0].AttnNorm) {
		assert.Equal(t, float32(1), v)
	}
	for _, v := range readAll(t, a.Layers[0].OB) {
		assert.Equal(t, float32(0), v)
	}
}

func TestScheduleLR(t *testing.T) {
	s := Schedule{Decay: "cosine", Warmup: 10, Total: 110, MinRatio: 0.1}
	assert.InDelta(t, 0.1, s.LR(1, 1), 1e-12)
	assert.InDelta(t, 1.0, s.LR(1, 10), 1e-12)
	assert.InDelta(t, 0.55, s.LR(1, 60), 1e-12)
	assert.InDelta(t, 0.1, s.LR(1, 110), 1e-12)
	assert.InDelta(t, 0.1, s.LR(1, 500), 1e-12)
	l := Schedule{Decay: "linear", Total: 100}
	assert.InDelta(t, 0.5, l.LR(2, 75), 1e-12)
	assert.Equal(t, 3.0, Schedule{}.LR(3, 7))
	require.Error(t, Schedule{Decay: "step"}.Validate())
}

func TestForwardRejectsBadBatches(t *testing.T) {
	m, err := New(tinyConfigs()["llama-bias"], refBackend{})
	require.NoError(t, err)
	for name, tc := range map[string]struct {
		tokens []int32
		seqs   []backend.Seq
	}{
		"empty":       {nil, nil},
		"gap":         {[]int32{1, 2, 3}, []backend.Seq{{Start: 0, Len: 1}, {Start: 2, Len: 1}}},
		"short":       {[]int32{1, 2, 3}, Pack(2)},
		"long":        {[]int32{1, 2}, Pack(3)},
		"vocab":       {[]int32{1, 99}, Pack(2)},
		"negative":    {[]int32{-1}, Pack(1)},
		"zero length": {[]int32{1}, []backend.Seq{{Start: 0, Len: 0}, {Start: 0, Len: 1}}},
	} {
		_, err := m.Forward(tc.tokens, tc.seqs)
		assert.Error(t, err, name)
	}
}

// TestPackedEqualsSeparate checks that packing never lets a sequence see
// another: log-probs of a packed batch equal those of each sequence alone.
func TestPackedEqualsSeparate(t *testing.T) {
	for bname, b := range testBackends(t) {
		cfg := tinyConfigs()["qwen2-gqa-tied"]
		m, err := New(cfg, b)
		require.NoError(t, err)
		randomize(t, m, 11, 0.3)
		rng := rand.New(rand.NewPCG(1, 2))
		lens := []int{5, 9, 2}
		tokens := randTokens(rng, 16, cfg.VocabSize)
		p, err := m.Forward(tokens, Pack(lens...))
		require.NoError(t, err)
		packed, ent, err := p.LogProbs(p.NextTokenTargets(), true)
		require.NoError(t, err)
		start := 0
		for _, n := range lens {
			q, err := m.Forward(tokens[start:start+n], Pack(n))
			require.NoError(t, err)
			alone, aent, err := q.LogProbs(q.NextTokenTargets(), true)
			require.NoError(t, err)
			assert.InDeltaSlice(t, alone, packed[start:start+n], 1e-5, bname)
			assert.InDeltaSlice(t, aent, ent[start:start+n], 1e-5, bname)
			start += n
		}
	}
}

// TestOverfitTinyBatch trains a fresh model on one small batch until the
// loss is near zero: forward, loss, backward and AdamW work together.
func TestOverfitTinyBatch(t *testing.T) {
	b := bestBackend(t)
	cfg := Config{ModelType: "qwen2", VocabSize: 16, HiddenSize: 32, NumLayers: 2, NumHeads: 4, NumKVHeads: 2,
		HeadDim: 8, IntermediateSize: 64, RopeTheta: 10000, RMSNormEps: 1e-6, MaxPositionEmbeddings: 64}
	m, err := New(cfg, b)
	require.NoError(t, err)
	m.Init(1)
	opt, err := NewAdamW(m, AdamWConfig{LR: 1e-2, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8, WeightDecay: 0, ClipNorm: 1})
	require.NoError(t, err)
	rng := rand.New(rand.NewPCG(3, 3))
	batch := Batch{Tokens: randTokens(rng, 24, cfg.VocabSize), Lens: []int{12, 8, 4}}
	// Distinct first tokens: otherwise two sequences could share a context
	// and the loss would have a floor above zero.
	batch.Tokens[0], batch.Tokens[12], batch.Tokens[20] = 0, 1, 2
	first, _, err := TrainStep(m, opt, []Batch{batch})
	require.NoError(t, err)
	var loss float32
	for i := 0; i < 400 && (i == 0 || loss > 0.01); i++ {
		loss, _, err = TrainStep(m, opt, []Batch{batch})
		require.NoError(t, err)
	}
	t.Logf("loss %.3f -> %.4f after %d steps", first, loss, opt.Step)
	assert.Greater(t, first, float32(2))
	assert.Less(t, loss, float32(0.01))
}

// TestGradientAccumulation: two micro-batches give the gradient of the one
// batch that packs both.
func TestGradientAccumulation(t *testing.T) {
	b := refBackend{}
	cfg := tinyConfigs()["llama-bias"]
	m, err := New(cfg, b)
	require.NoError(t, err)
	randomize(t, m, 5, 0.3)
	rng := rand.New(rand.NewPCG(4, 4))
	toks := randTokens(rng, 13, cfg.VocabSize)
	mask := []float32{1, 1, 0, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1}
	noStep := AdamWConfig{LR: 0, Beta1: 0.9, Beta2: 0.99, Eps: 1e-8}
	opt, err := NewAdamW(m, noStep)
	require.NoError(t, err)
	lossOne, _, err := TrainStep(m, opt, []Batch{{Tokens: toks, Lens: []int{6, 7}, Mask: mask}})
	require.NoError(t, err)
	one := readAll(t, m.G)
	lossTwo, _, err := TrainStep(m, opt, []Batch{{Tokens: toks[:6], Lens: []int{6}, Mask: mask[:6]}, {Tokens: toks[6:], Lens: []int{7}, Mask: mask[6:]}})
	require.NoError(t, err)
	assert.InDelta(t, lossOne, lossTwo, 1e-5)
	assert.InDeltaSlice(t, one, readAll(t, m.G), 1e-5)
}

// TestCheckpointResumeIsBitwise trains 6 steps straight, and 3 steps, a
// checkpoint, a reload and 3 more: the weights must be bitwise equal, and
// the config (Qwen3's, with its RoPE scaling and special ids) the same.
func TestCheckpointResumeIsBitwise(t *testing.T) {
	for name, b := range testBackends(t) {
		for _, c := range []string{"qwen2-gqa-tied", "qwen3-llama3rope"} {
			t.Run(name+"/"+c, func(t *testing.T) { testCheckpointResume(t, b, tinyConfigs()[c]) })
		}
	}
}

func testCheckpointResume(t *testing.T, b backend.Backend, cfg Config) {
	hp := DefaultAdamW(3e-3)
	hp.Schedule = Schedule{Decay: "cosine", Warmup: 2, Total: 6}
	// Each step draws its batch from the run's RNG, so the RNG state is part
	// of what must survive the checkpoint.
	step := func(m *Model, opt *AdamW, rng *rand.PCG) {
		r := rand.New(rng)
		_, _, err := TrainStep(m, opt, []Batch{{Tokens: randTokens(r, 10, cfg.VocabSize), Lens: []int{4, 6}}})
		require.NoError(t, err)
	}
	m, err := New(cfg, b)
	require.NoError(t, err)
	m.Init(9)
	opt, err := NewAdamW(m, hp)
	require.NoError(t, err)
	rng := rand.NewPCG(5, 6)
	for i := 0; i < 6; i++ {
		step(m, opt, rng)
	}
	straight := readAll(t, m.W)

	m2, err := New(cfg, b)
	require.NoError(t, err)
	m2.Init(9)
	opt2, err := NewAdamW(m2, hp)
	require.NoError(t, err)
	rng2 := rand.NewPCG(5, 6)
	for i := 0; i < 3; i++ {
		step(m2, opt2, rng2)
	}
	path := filepath.Join(t.TempDir(), "ckpt.safetensors")
	require.NoError(t, Checkpoint{Model: m2, Opt: opt2, RNG: rng2}.Save(path))
	ck, err := LoadCheckpoint(path, b)
	require.NoError(t, err)
	assert.Equal(t, 3, ck.Opt.Step)
	assert.Equal(t, hp, ck.Opt.Cfg)
	assert.Equal(t, cfg, ck.Model.Cfg)
	for i := 0; i < 3; i++ {
		step(ck.Model, ck.Opt, ck.RNG)
	}
	assert.Equal(t, straight, readAll(t, ck.Model.W), "resumed run differs from the straight run")
}

func TestLoadCheckpointErrors(t *testing.T) {
	_, err := LoadCheckpoint(filepath.Join(t.TempDir(), "absent"), refBackend{})
	require.Error(t, err)
	_, err = LoadCheckpoint("testdata/golden.safetensors", refBackend{})
	require.ErrorContains(t, err, "format")
}

// TestLoadHFLlamaArith loads the shared Llama checkpoint (BF16) and runs it.
func TestLoadHFLlamaArith(t *testing.T) {
	dir := filepath.Dir(shareddata.Path(t, "models/llama-arith-random/model.safetensors"))
	b := bestBackend(t)
	m, err := LoadHF(dir, b)
	require.NoError(t, err)
	assert.Equal(t, 795776, m.NumParams())
	tokens := []int32{3, 4, 5, 6, 7, 8, 9, 1, 3, 10, 11}
	p, err := m.Forward(tokens, Pack(8, 3))
	require.NoError(t, err)
	lg := p.Logits()
	assert.Equal(t, []int{11, 16}, lg.Shape())
	for _, v := range readAll(t, lg) {
		require.False(t, v != v || v > 1e30 || v < -1e30, "non-finite logit %v", v)
	}

	// Saved as a Hugging Face folder, it loads back identical.
	out := t.TempDir()
	require.NoError(t, m.SaveHF(out))
	m2, err := LoadHF(out, b)
	require.NoError(t, err)
	assert.Equal(t, readAll(t, m.W), readAll(t, m2.W))
}

// bestBackend is the CPU backend when registered, else the reference one.
func bestBackend(t *testing.T) backend.Backend {
	if b, ok := testBackends(t)["cpu"]; ok {
		return b
	}
	return refBackend{}
}
