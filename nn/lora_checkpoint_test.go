package nn

import (
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/goarpo/arpo/nn/safetensors"
	"github.com/stretchr/testify/require"
)

// loraBase is the tiny llama model the checkpoint tests train adapters on.
func loraBase(t *testing.T, seed uint64) *Model {
	t.Helper()
	m, err := New(tinyConfigs()["llama-bias"], refBackend{})
	require.NoError(t, err)
	randomize(t, m, seed, 0.5)
	return m
}

var testLoRA = LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"q", "v", "o", "down"}}

// loraSteps takes n SFT steps whose batches are drawn from src.
func loraSteps(t *testing.T, m *Model, opt *AdamW, src *rand.PCG, n int) {
	t.Helper()
	rng := rand.New(src)
	for range n {
		_, _, err := TrainStep(m, opt, []Batch{{Tokens: randTokens(rng, 11, m.Cfg.VocabSize), Lens: []int{6, 5}}})
		require.NoError(t, err)
	}
}

func loraAdamW() AdamWConfig {
	c := DefaultAdamW(3e-2)
	c.Schedule = Schedule{Decay: "cosine", Warmup: 2, Total: 6, MinRatio: 0.1}
	return c
}

// TestLoRACheckpointResumeBitwise: four steps straight equal two steps, a
// checkpoint, a fresh base with the adapters loaded onto it, and two more
// steps, bit for bit (adapters, moments, step, RNG); the file holds the
// adapters and moments only.
func TestLoRACheckpointResumeBitwise(t *testing.T) {
	straight := loraBase(t, 2)
	require.NoError(t, straight.AttachLoRA(testLoRA, 5))
	opt, err := NewAdamW(straight, loraAdamW())
	require.NoError(t, err)
	loraSteps(t, straight, opt, rand.NewPCG(1, 2), 4)

	m := loraBase(t, 2)
	require.NoError(t, m.AttachLoRA(testLoRA, 5))
	opt2, err := NewAdamW(m, loraAdamW())
	require.NoError(t, err)
	src := rand.NewPCG(1, 2)
	loraSteps(t, m, opt2, src, 2)
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	require.NoError(t, Checkpoint{Model: m, Opt: opt2, RNG: src, Run: `{"phase":"sft"}`, Base: "/models/base"}.Save(path))

	ts, err := safetensors.ReadFile(path)
	require.NoError(t, err)
	require.Len(t, ts, 3*len(m.LoRA.Params))
	require.Contains(t, ts, "model.layers.1.mlp.down_proj.lora_B.weight")
	require.Contains(t, ts, "optim.v.model.layers.0.self_attn.q_proj.lora_A.weight")
	info, ok, err := ReadLoRACheckpointInfo(path)
	require.NoError(t, err)
	require.True(t, ok)
	require.Equal(t, testLoRA, info.LoRA)
	require.Equal(t, "/models/base", info.Base)
	hash, err := loraBase(t, 2).BaseHash()
	require.NoError(t, err)
	require.Equal(t, hash, info.BaseSHA256)

	resumed := loraBase(t, 2)
	ck, err := LoadLoRACheckpoint(path, resumed)
	require.NoError(t, err)
	require.Equal(t, 2, ck.Opt.Step)
	require.Equal(t, `{"phase":"sft"}`, ck.Run)
	require.Equal(t, "/models/base", ck.Base)
	require.Nil(t, resumed.G)
	loraSteps(t, resumed, ck.Opt, ck.RNG, 2)

	require.Equal(t, readAll(t, straight.LoRA.W), readAll(t, resumed.LoRA.W))
	require.Equal(t, readAll(t, opt.M), readAll(t, ck.Opt.M))
	require.Equal(t, readAll(t, opt.V), readAll(t, ck.Opt.V))
	require.Equal(t, readAll(t, straight.W), readAll(t, resumed.W))
}

// TestLoRACheckpointRefusals: a different base, a full checkpoint loader,
// a tampered file; each one line, the base left without adapters.
func TestLoRACheckpointRefusals(t *testing.T) {
	m := loraBase(t, 2)
	require.NoError(t, m.AttachLoRA(testLoRA, 5))
	opt, err := NewAdamW(m, loraAdamW())
	require.NoError(t, err)
	dir := t.TempDir()
	path := filepath.Join(dir, "ck.safetensors")
	require.NoError(t, Checkpoint{Model: m, Opt: opt, Base: "base-a"}.Save(path))

	other := loraBase(t, 3)
	_, err = LoadLoRACheckpoint(path, other)
	require.ErrorContains(t, err, "are not the ones the adapters were trained on (base-a")
	require.Nil(t, other.LoRA)

	_, err = LoadCheckpoint(path, refBackend{})
	require.ErrorContains(t, err, `a LoRA checkpoint (adapters only): load its base "base-a"`)

	// A full checkpoint is not a LoRA one.
	full := loraBase(t, 2)
	fopt, err := NewAdamW(full, loraAdamW())
	require.NoError(t, err)
	fpath := filepath.Join(dir, "full.safetensors")
	require.NoError(t, Checkpoint{Model: full, Opt: fopt}.Save(fpath))
	_, ok, err := ReadLoRACheckpointInfo(fpath)
	require.NoError(t, err)
	require.False(t, ok)
	_, err = LoadLoRACheckpoint(fpath, loraBase(t, 2))
	require.ErrorContains(t, err, "not a LoRA checkpoint")

	// An adapter missing, or a negative second moment.
	ts, err := safetensors.ReadFile(path)
	require.NoError(t, err)
	meta, err := safetensors.ReadMetadata(path)
	require.NoError(t, err)
	for name, edit := range map[string]func(map[string]safetensors.Tensor){
		"missing or misshapen adapter": func(ts map[string]safetensors.Tensor) {
			delete(ts, "model.layers.0.self_attn.v_proj.lora_A.weight")
		},
		"negative second moment": func(ts map[string]safetensors.Tensor) {
			ts["optim.v.model.layers.1.self_attn.o_proj.lora_B.weight"].Data[0] = -1
		},
	} {
		bad := map[string]safetensors.Tensor{}
		for k, v := range ts {
			bad[k] = safetensors.Tensor{Shape: v.Shape, Data: append([]float32(nil), v.Data...)}
		}
		edit(bad)
		p := filepath.Join(dir, "bad.safetensors")
		require.NoError(t, safetensors.WriteFile(p, bad, meta))
		base := loraBase(t, 2)
		_, err := LoadLoRACheckpoint(p, base)
		require.ErrorContains(t, err, name)
		require.Nil(t, base.LoRA)
		require.NoError(t, os.Remove(p))
	}
}

// TestLoRAMerge: the merged copy computes what the adapted model does, and
// so does the model after MergeLoRA; MergeInto refreshes a copy after a step.
func TestLoRAMerge(t *testing.T) {
	m := loraBase(t, 2)
	newLoRAModel(t, m, allTargets, 3, 6)
	rng := rand.New(rand.NewPCG(4, 4))
	tokens := randTokens(rng, 12, m.Cfg.VocabSize)
	logits := func(m *Model) []float32 {
		p, err := m.Forward(tokens, Pack(7, 5))
		require.NoError(t, err)
		defer p.Free()
		lg := p.Logits()
		defer lg.Free()
		return readAll(t, lg)
	}
	want := logits(m)
	cp, err := m.MergedCopy()
	require.NoError(t, err)
	require.Nil(t, cp.LoRA)
	require.Nil(t, cp.G)
	require.Less(t, relErr(logits(cp), want, 1), 1e-5)
	base := loraBase(t, 2)
	require.Greater(t, relErr(logits(base), want, 1), 1e-2) // the adapters matter

	opt, err := NewAdamW(m, loraAdamW())
	require.NoError(t, err)
	loraSteps(t, m, opt, rand.NewPCG(3, 3), 1)
	want = logits(m)
	require.Greater(t, relErr(logits(cp), want, 1), 1e-4) // stale
	require.NoError(t, m.MergeInto(cp))
	require.Less(t, relErr(logits(cp), want, 1), 1e-5)
	require.Error(t, m.MergeInto(loraBase(t, 2).withLoRA(t)))

	require.NoError(t, m.MergeLoRA())
	require.Nil(t, m.LoRA)
	require.Nil(t, m.Layers[0].LoRA)
	require.Equal(t, readAll(t, cp.W), readAll(t, m.W))
}

func (m *Model) withLoRA(t *testing.T) *Model {
	require.NoError(t, m.AttachLoRA(testLoRA, 1))
	return m
}
