package nn

import (
	"math"
	"math/rand/v2"
	"testing"

	"github.com/goarpo/arpo/tensor"
	"github.com/stretchr/testify/require"
)

var allTargets = []string{"q", "k", "v", "o", "gate", "up", "down"}

// newLoRAModel randomizes m and attaches adapters on targets, their B drawn
// at random too (B = 0, as at init, would make A's gradient zero).
func newLoRAModel(t *testing.T, m *Model, targets []string, rank int, seed uint64) {
	t.Helper()
	randomize(t, m, seed, 0.5)
	require.NoError(t, m.AttachLoRA(LoRAConfig{Rank: rank, Alpha: float64(rank), Targets: targets}, seed))
	rng := rand.New(rand.NewPCG(seed, 2))
	for _, p := range m.LoRA.Params {
		p.W.Set(randSlice(rng, p.W.Len(), 0.1))
	}
}

func TestLoRAConfigValidate(t *testing.T) {
	ok := LoRAConfig{Rank: 8, Alpha: 16, Targets: []string{"q", "down"}}
	require.NoError(t, ok.Validate())
	require.Equal(t, float32(2), ok.Scale())
	for _, c := range []struct {
		cfg  LoRAConfig
		want string
	}{
		{LoRAConfig{Rank: 0, Alpha: 1, Targets: []string{"q"}}, "rank 0"},
		{LoRAConfig{Rank: 4, Alpha: 0, Targets: []string{"q"}}, "alpha 0"},
		{LoRAConfig{Rank: 4, Alpha: math.NaN(), Targets: []string{"q"}}, "alpha NaN"},
		{LoRAConfig{Rank: 4, Alpha: 1}, "no target"},
		{LoRAConfig{Rank: 4, Alpha: 1, Targets: []string{"q", "qkv"}}, `unknown target "qkv"`},
		{LoRAConfig{Rank: 4, Alpha: 1, Targets: []string{"q", "q"}}, `"q" given twice`},
	} {
		err := c.cfg.Validate()
		require.Error(t, err)
		require.Contains(t, err.Error(), c.want)
	}
	require.Equal(t, []string{"q", "k", "gate"}, ParseLoRATargets(" q, k,,gate "))
	require.Equal(t, "gate_proj", LoRAModuleName("gate"))
	require.Equal(t, "", LoRAModuleName("x"))
}

// TestLoRAAttach: adapters are laid out and initialised as PEFT does (A
// uniform in +-1/sqrt(in), B zero), the base's gradients are gone, and a
// fresh adapter computes exactly what the base did.
func TestLoRAAttach(t *testing.T) {
	b := refBackend{}
	cfg := tinyConfigs()["qwen2-gqa-tied"]
	m, err := New(cfg, b)
	require.NoError(t, err)
	randomize(t, m, 3, 0.5)
	rng := rand.New(rand.NewPCG(1, 1))
	tokens := randTokens(rng, 9, cfg.VocabSize)
	logits := func() []float32 {
		p, err := m.Forward(tokens, Pack(4, 5))
		require.NoError(t, err)
		defer p.Free()
		lg := p.Logits()
		defer lg.Free()
		return readAll(t, lg)
	}
	base := logits()
	require.NoError(t, m.AttachLoRA(LoRAConfig{Rank: 3, Alpha: 6, Targets: []string{"q", "o", "down"}}, 5))
	require.Error(t, m.AttachLoRA(LoRAConfig{Rank: 3, Alpha: 6, Targets: []string{"q"}}, 5))
	require.Equal(t, base, logits())
	require.Nil(t, m.G)
	require.Nil(t, m.Layers[0].QG)
	ps, w, _ := m.Trainable()
	require.Len(t, ps, 2*3*cfg.NumLayers)
	require.Equal(t, "model.layers.0.self_attn.q_proj.lora_A.weight", ps[0].Name)
	require.Equal(t, "model.layers.1.mlp.down_proj.lora_B.weight", ps[len(ps)-1].Name)
	C, HD, F := cfg.HiddenSize, cfg.NumHeads*cfg.HeadDim, cfg.IntermediateSize
	require.Equal(t, cfg.NumLayers*3*((C+HD)+(HD+C)+(F+C)), w.Len())
	ad := m.Layers[1].LoRA.Adapter("down")
	require.Equal(t, []int{3, F}, ad.A.Shape())
	require.Equal(t, []int{C, 3}, ad.B.Shape())
	require.Equal(t, float32(2), ad.Scale)
	require.Nil(t, m.Layers[1].LoRA.Adapter("k"))
	a := readAll(t, ad.A)
	bound, spread := 1/math.Sqrt(float64(F)), 0.0
	for _, v := range a {
		require.LessOrEqual(t, math.Abs(float64(v)), bound)
		spread = math.Max(spread, math.Abs(float64(v)))
	}
	require.Greater(t, spread, bound/2)
	for _, v := range readAll(t, ad.B) {
		require.Zero(t, v)
	}
}

// TestFDLoRAParams checks every adapter's gradient on every target, through
// Pass.Backward, for each tiny config.
func TestFDLoRAParams(t *testing.T) {
	b := refBackend{}
	for name, cfg := range tinyConfigs() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(7, 7))
			m, err := New(cfg, b)
			require.NoError(t, err)
			newLoRAModel(t, m, allTargets, 2, 3)
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
			for _, prm := range m.LoRA.Params {
				w, g := readAll(t, prm.W), readAll(t, prm.G)
				fdCheck(t, prm.Name, w, prm.W.Set, loss, g, 4, rng)
			}
		})
	}
}

// TestFDLoRALayerInput checks that dx carries the adapters' paths: one
// layer's gradient with respect to its input, with adapters on every target.
func TestFDLoRALayerInput(t *testing.T) {
	b := refBackend{}
	for name, cfg := range tinyConfigs() {
		t.Run(name, func(t *testing.T) {
			rng := rand.New(rand.NewPCG(8, 8))
			m, err := New(cfg, b)
			require.NoError(t, err)
			newLoRAModel(t, m, allTargets, 3, 4)
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

// TestLoRAFusedHead: with the base frozen, the fused LM head skips its
// weight gradient; the adapters' gradients equal the chunked head's.
func TestLoRAFusedHead(t *testing.T) {
	grads := func(mode int) []float32 {
		m := headModel(t, 2, mode, true)
		require.NoError(t, m.AttachLoRA(LoRAConfig{Rank: 4, Alpha: 8, Targets: allTargets}, 1))
		rng := rand.New(rand.NewPCG(2, 2))
		for _, p := range m.LoRA.Params {
			p.W.Set(randSlice(rng, p.W.Len(), 0.3))
		}
		_, _, g, _, _ := headRun(t, m)
		return g
	}
	fused, chunked := grads(1), grads(-1)
	require.Less(t, relErr(fused, chunked, 1e-3), 1e-4)
}

// TestLoRATrainsAdaptersOnly: AdamW steps move the adapters and leave every
// base weight as it was.
func TestLoRATrainsAdaptersOnly(t *testing.T) {
	b := refBackend{}
	cfg := tinyConfigs()["llama-bias"]
	m, err := New(cfg, b)
	require.NoError(t, err)
	randomize(t, m, 2, 0.5)
	base := readAll(t, m.W)
	require.NoError(t, m.AttachLoRA(LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"v", "up"}}, 9))
	opt, err := NewAdamW(m, DefaultAdamW(1e-2))
	require.NoError(t, err)
	require.Equal(t, m.LoRA.W.Len(), opt.M.Len())
	before := readAll(t, m.LoRA.W)
	rng := rand.New(rand.NewPCG(3, 3))
	for range 3 {
		_, info, err := TrainStep(m, opt, []Batch{{Tokens: randTokens(rng, 12, cfg.VocabSize), Lens: []int{7, 5}}})
		require.NoError(t, err)
		require.Greater(t, info.GradNorm, float32(0))
	}
	require.Equal(t, base, readAll(t, m.W))
	require.NotEqual(t, before, readAll(t, m.LoRA.W))
}
