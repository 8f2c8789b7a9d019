package nn

import (
	"encoding/json"
	"fmt"
	"strconv"
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/nn/safetensors"
	"github.com/goarpo/arpo/tensor"
	"github.com/stretchr/testify/require"
)

// TestGoldenTorch compares the model with the plain-PyTorch reference of
// scripts/torch_golden.py (fixture nn/testdata/golden.safetensors): logits,
// masked cross-entropy, every parameter's gradient, the gradient norm and the
// weights after one clipped AdamW step, for six tiny configs (Llama MHA;
// Qwen2 GQA + q/k/v bias + tied embeddings; Llama GQA + q/k/v/o bias +
// head_dim != hidden/heads; Qwen3 q_norm/k_norm + head_dim 8 != 16/4 + tied;
// Llama 3 RoPE scaling "llama3"; Qwen3 + q/k/v/o bias + "linear" RoPE
// scaling), within a relative error of 1e-4. nn/engine's golden test checks
// greedy generation from the same fixture.
func TestGoldenTorch(t *testing.T) {
	const path = "testdata/golden.safetensors"
	ts, err := safetensors.ReadFile(path)
	require.NoError(t, err)
	meta, err := safetensors.ReadMetadata(path)
	require.NoError(t, err)
	cases, err := strconv.Atoi(meta["cases"])
	require.NoError(t, err)
	require.Equal(t, 6, cases)
	for bname, b := range testBackends(t) {
		for k := 0; k < cases; k++ {
			t.Run(fmt.Sprintf("%s/c%d", bname, k), func(t *testing.T) {
				fx := fixtureCase{t, ts, meta, k}
				get, ints := fx.get, fx.ints
				cfg := fx.config()
				var hp struct {
					LR          float64 `json:"lr"`
					Beta1       float64 `json:"beta1"`
					Beta2       float64 `json:"beta2"`
					Eps         float64 `json:"eps"`
					WeightDecay float64 `json:"weight_decay"`
					Clip        float64 `json:"clip"`
				}
				require.NoError(t, json.Unmarshal([]byte(meta[fmt.Sprintf("c%d.adamw", k)]), &hp))

				// RoPE's frequencies, scaled as modeling_rope_utils does (in
				// float32 there, float64 here).
				for j, want := range get("rope.inv_freq") {
					got := cfg.RoPE().InvFreq(cfg.HeadDim)[j]
					require.InEpsilon(t, want, got, 1e-6, "inverse frequency %d", j)
				}

				m, err := New(cfg, b)
				require.NoError(t, err)
				for _, p := range m.Params {
					p.W.Set(get("w." + p.Name))
				}
				tokens, targets, mask := ints("tokens"), ints("targets"), get("mask")
				lens := fx.lens()
				p, err := m.Forward(tokens, Pack(lens...))
				require.NoError(t, err)
				defer p.Free()
				require.Equal(t, targets, p.NextTokenTargets())

				lg := p.Logits()
				checkRel(t, "logits", readAll(t, lg), get("logits"))
				lg.Free()

				m.ZeroGrad()
				loss, err := p.CrossEntropy(targets, mask, 0)
				require.NoError(t, err)
				checkRel(t, "loss", []float32{loss}, get("loss"))
				for _, prm := range m.Params {
					checkRel(t, "grad "+prm.Name, readAll(t, prm.G), get("g."+prm.Name))
				}

				// The optimizer step is checked from PyTorch's own gradients:
				// AdamW's first step is about lr*sign(g), so an element whose
				// gradient is near 0 (|g| ~ eps) turns a 1e-6 gradient
				// difference into a large update difference. The gradients
				// were checked above.
				hpc := AdamWConfig{LR: hp.LR, Beta1: hp.Beta1, Beta2: hp.Beta2, Eps: hp.Eps, WeightDecay: hp.WeightDecay, ClipNorm: hp.Clip}
				opt, err := NewAdamW(m, hpc)
				require.NoError(t, err)
				for _, prm := range m.Params {
					prm.W.Set(get("w." + prm.Name))
					prm.G.Set(get("g." + prm.Name))
				}
				info, err := opt.Update(m)
				require.NoError(t, err)
				checkRel(t, "gradnorm", []float32{info.GradNorm}, get("gradnorm"))
				for _, prm := range m.Params {
					checkRel(t, "updated "+prm.Name, readAll(t, prm.W), get("u."+prm.Name))
				}
			})
		}
	}
}

// TestBackwardFullLogitsMatchesFused checks that Backward from full dlogits
// and the chunked BackwardLogProbs (via CrossEntropy) give the same gradients.
func TestBackwardFullLogitsMatchesFused(t *testing.T) {
	ts, err := safetensors.ReadFile("testdata/golden.safetensors")
	require.NoError(t, err)
	meta, err := safetensors.ReadMetadata("testdata/golden.safetensors")
	require.NoError(t, err)
	cfg, err := ParseConfig([]byte(meta["c1.config"]))
	require.NoError(t, err)
	b := refBackend{}
	m, err := New(cfg, b)
	require.NoError(t, err)
	m.chunk = 4 // the fused path runs in 4 chunks of rows
	for _, p := range m.Params {
		p.W.Set(ts["c1.w."+p.Name].Data)
	}
	tokens := make([]int32, 15)
	for i, v := range ts["c1.tokens"].Data {
		tokens[i] = int32(v)
	}
	p, err := m.Forward(tokens, Pack(7, 3, 5))
	require.NoError(t, err)
	targets, mask := p.NextTokenTargets(), ts["c1.mask"].Data
	_, err = p.CrossEntropy(targets, mask, 0)
	require.NoError(t, err)
	fused := readAll(t, m.G)

	// The same gradient through full logits: dlogits = dlogp * (onehot - p).
	m.ZeroGrad()
	logp, _, err := p.LogProbs(targets, false)
	require.NoError(t, err)
	_, dlogp := MaskedCE(logp, mask, 0)
	lg := p.Logits()
	dl := tensor.New(b, p.T, cfg.VocabSize)
	b.LogProbsBackward(dl.View(), lg.View(), tensor.FromSlice(b, dlogp, p.T).View(), backend.View{}, targets, p.T, cfg.VocabSize)
	p.Backward(dl)
	checkRel(t, "grads", readAll(t, m.G), fused)
}

func checkRel(t *testing.T, what string, got, want []float32) {
	t.Helper()
	require.Equal(t, len(want), len(got), what)
	e := relErr(got, want, 1e-6)
	require.LessOrEqual(t, e, 1e-4, "%s: relative error %.3g", what, e)
}

// TestGoldenHFFolders loads the two Hugging Face folders scripts/torch_golden.py
// writes as downloaded checkpoints are (config.json with the published keys,
// BF16 weights): a Qwen3 (q_norm/k_norm, tied) and a Llama 3 (rope_scaling
// llama3, eos list), and compares the logits of a packed batch with
// PyTorch's from the same BF16 weights.
func TestGoldenHFFolders(t *testing.T) {
	ts, err := safetensors.ReadFile("testdata/golden.safetensors")
	require.NoError(t, err)
	for _, name := range []string{"hf-qwen3", "hf-llama3"} {
		for bname, b := range testBackends(t) {
			t.Run(name+"/"+bname, func(t *testing.T) {
				m, err := LoadHF("testdata/"+name, b)
				require.NoError(t, err)
				defer m.Free()
				require.Equal(t, "bfloat16", m.Cfg.TorchDtype)
				if name == "hf-qwen3" {
					require.NotNil(t, m.Layers[1].KNorm)
				} else {
					require.Equal(t, TokenIDs{2, 3}, m.Cfg.EOSTokenID)
					require.Equal(t, "llama3", m.Cfg.RoPE().Scaling)
				}
				var tokens []int32
				for _, v := range ts[name+".tokens"].Data {
					tokens = append(tokens, int32(v))
				}
				p, err := m.Forward(tokens, Pack(7, 3, 5))
				require.NoError(t, err)
				defer p.Free()
				lg := p.Logits()
				defer lg.Free()
				checkRel(t, "logits", readAll(t, lg), ts[name+".logits"].Data)
			})
		}
	}
}
