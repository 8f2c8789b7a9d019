package nn

import (
	"encoding/json"
	"fmt"
	"strconv"
	"strings"
	"testing"

	"github.com/goarpo/arpo/nn/safetensors"
	"github.com/goarpo/arpo/tensor"
	"github.com/stretchr/testify/require"
)

// TestLoRAGoldenTorch compares LoRA with scripts/torch_lora.py (fixture
// nn/testdata/lora_golden.safetensors), PEFT's LoRA Linear written in plain
// torch on a frozen base: logits, loss, every adapter's gradient, the
// gradient norm over the adapters, the adapters after one clipped AdamW step
// and the merged weights, for three cases (Qwen2 with all seven targets,
// Qwen3 with q,v,down, Llama with biases and k,o,up), on every backend,
// within a relative error of 1e-4.
func TestLoRAGoldenTorch(t *testing.T) {
	const path = "testdata/lora_golden.safetensors"
	ts, err := safetensors.ReadFile(path)
	require.NoError(t, err)
	meta, err := safetensors.ReadMetadata(path)
	require.NoError(t, err)
	cases, err := strconv.Atoi(meta["cases"])
	require.NoError(t, err)
	require.Equal(t, 3, cases)
	for bname, b := range testBackends(t) {
		for k := 0; k < cases; k++ {
			t.Run(fmt.Sprintf("%s/c%d", bname, k), func(t *testing.T) {
				fx := fixtureCase{t, ts, meta, k}
				get, ints := fx.get, fx.ints
				cfg := fx.config()
				var lc LoRAConfig
				require.NoError(t, json.Unmarshal([]byte(meta[fmt.Sprintf("c%d.lora", k)]), &lc))
				var hp struct {
					LR, Beta1, Beta2, Eps float64
					WeightDecay           float64 `json:"weight_decay"`
					Clip                  float64
				}
				require.NoError(t, json.Unmarshal([]byte(meta[fmt.Sprintf("c%d.adamw", k)]), &hp))

				m, err := New(cfg, b)
				require.NoError(t, err)
				defer m.Free()
				for _, p := range m.Params {
					p.W.Set(get("w." + p.Name))
				}
				require.NoError(t, m.AttachLoRA(lc, 1))
				n := 0
				for name := range ts {
					if strings.HasPrefix(name, fmt.Sprintf("c%d.a.", k)) {
						n++
					}
				}
				require.Len(t, m.LoRA.Params, n, "the fixture's adapters")
				for _, p := range m.LoRA.Params {
					p.W.Set(get("a." + p.Name))
				}
				lens := fx.lens()
				tokens, targets, mask := ints("tokens"), ints("targets"), get("mask")
				p, err := m.Forward(tokens, Pack(lens...))
				require.NoError(t, err)
				defer p.Free()
				lg := p.Logits()
				checkRel(t, "logits", readAll(t, lg), get("logits"))
				lg.Free()

				m.ZeroGrad()
				loss, err := p.CrossEntropy(targets, mask, 0)
				require.NoError(t, err)
				checkRel(t, "loss", []float32{loss}, get("loss"))
				for _, prm := range m.LoRA.Params {
					checkRel(t, "grad "+prm.Name, readAll(t, prm.G), get("g."+prm.Name))
				}

				cp, err := m.MergedCopy()
				require.NoError(t, err)
				defer cp.Free()
				m.loraWeights(func(_ *tensor.Tensor, name string, _ *Adapter) {
					checkRel(t, "merged "+name, readAll(t, cp.Param(name).W), get("m."+name))
				})

				// The step from PyTorch's gradients, as TestGoldenTorch does.
				opt, err := NewAdamW(m, AdamWConfig{LR: hp.LR, Beta1: hp.Beta1, Beta2: hp.Beta2, Eps: hp.Eps, WeightDecay: hp.WeightDecay, ClipNorm: hp.Clip})
				require.NoError(t, err)
				for _, prm := range m.LoRA.Params {
					prm.G.Set(get("g." + prm.Name))
				}
				info, err := opt.Update(m)
				require.NoError(t, err)
				checkRel(t, "gradnorm", []float32{info.GradNorm}, get("gradnorm"))
				for _, prm := range m.LoRA.Params {
					checkRel(t, "updated "+prm.Name, readAll(t, prm.W), get("u."+prm.Name))
				}
				for _, prm := range m.Params {
					require.Equal(t, get("w."+prm.Name), readAll(t, prm.W), "the base is frozen: %s", prm.Name)
				}
			})
		}
	}
}
