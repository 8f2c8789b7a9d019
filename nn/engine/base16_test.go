package engine

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/safetensors"
	"github.com/goarpo/arpo/nn/sample"
)

// bf16Folder writes testModel(mt)'s weights as a bf16 Hugging Face folder.
func bf16Folder(t *testing.T, mt string) string {
	m := testModel(t, mt, 1)
	defer m.Free()
	ws, err := m.Weights()
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, safetensors.WriteFileAs(filepath.Join(dir, "model.safetensors"), ws, nil, "BF16"))
	cfg := m.Cfg
	cfg.TorchDtype = "bfloat16"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), cfg.HFJSON(), 0o644))
	return dir
}

func f32bits(v []float32) []uint32 {
	out := make([]uint32, len(v))
	for i, x := range v {
		out[i] = math.Float32bits(x)
	}
	return out
}

// generate samples 12 tokens for each of two prompts (one batch) and
// returns the tokens and every logit row of a scoring prefill.
func generate(t *testing.T, e *Engine, prompts [][]int32) ([]int32, []float32) {
	var streams []*Stream
	for i, p := range prompts {
		streams = append(streams, e.NewStream(p, sample.Params{Temperature: 1}, sample.NewRNG(7, uint64(i)), len(p)+12, GenConfig{}))
	}
	require.NoError(t, e.Generate(streams, GenConfig{}))
	var toks []int32
	for _, s := range streams {
		toks = append(toks, s.Tokens...)
		e.Release(s.Seq)
	}
	s := e.NewSeq()
	defer e.Release(s)
	lg, err := e.Forward([]Feed{{Seq: s, Tokens: append(prompts[0], toks...), All: true}})
	require.NoError(t, err)
	return toks, lg
}

// TestBF16BaseEngine: an engine over a bf16 base decodes with the model's
// bf16 weights in place (its only copy is the LM head's) and gives the
// bits of an engine in BF16 over the float32 model of the same bf16
// folder: generated tokens and logits; with LoRA, the bf16 merged copy's
// equal the float32 merged copy's decoded in BF16.
func TestBF16BaseEngine(t *testing.T) {
	for _, mt := range []string{"llama", "qwen2", "qwen3"} {
		t.Run(mt, func(t *testing.T) {
			dir := bf16Folder(t, mt)
			b := cpu.New(2)
			f32, err := nn.LoadHF(dir, b)
			require.NoError(t, err)
			defer f32.Free()
			base, err := nn.LoadHFBF16Base(dir, b)
			require.NoError(t, err)
			defer base.Free()
			r := rand.New(rand.NewPCG(1, 2))
			prompts := [][]int32{randTokens(r, 9, f32.Cfg.VocabSize), randTokens(r, 4, f32.Cfg.VocabSize)}

			run := func(m *nn.Model, bf16Copy bool) ([]int32, []float32) {
				e := New(m, Options{BlockSize: 4, BatchInvariant: true})
				defer e.Close()
				if bf16Copy {
					require.NoError(t, e.SetPrecision(nn.BF16))
				}
				require.Equal(t, nn.BF16, e.Precision())
				if m.BF16Base() {
					require.Len(t, e.w16.bufs, 1, "only the LM head is copied")
					_, ok := e.w16.bufs[m.LMHead]
					require.True(t, ok)
					err := e.SetPrecision(nn.F32)
					require.True(t, errors.Is(err, nn.ErrBF16Base), "%v", err)
				}
				return generate(t, e, prompts)
			}
			t32, l32 := run(f32, true)
			t16, l16 := run(base, false)
			require.Equal(t, t32, t16)
			require.Equal(t, f32bits(l32), f32bits(l16))

			lc := nn.LoRAConfig{Rank: 2, Alpha: 4, Targets: nn.LoRATargets}
			for _, m := range []*nn.Model{f32, base} {
				require.NoError(t, m.AttachLoRA(lc, 3))
				w := make([]float32, m.LoRA.W.Len())
				rr := rand.New(rand.NewPCG(4, 4))
				for i := range w {
					w[i] = float32(rr.NormFloat64() * 0.2)
				}
				m.LoRA.W.Set(w)
			}
			m32, err := f32.MergedCopy()
			require.NoError(t, err)
			defer m32.Free()
			m16, err := base.MergedCopy()
			require.NoError(t, err)
			defer m16.Free()
			require.True(t, m16.BF16Base())
			mt32, ml32 := run(m32, true)
			mt16, ml16 := run(m16, false)
			require.Equal(t, mt32, mt16)
			require.Equal(t, f32bits(ml32), f32bits(ml16))
			require.NotEqual(t, f32bits(l32), f32bits(ml32), "the adapters change the logits")
		})
	}
}
