package export

import (
	"encoding/json"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/nntest"
	"github.com/goarpo/arpo/nn/safetensors"
)

// loraModel is testConfig's model with random weights and adapters on
// down, q and v (given out of nn's order), their B random too.
func loraModel(t *testing.T) *nn.Model {
	t.Helper()
	m, err := nn.New(testConfig(true), cpu.New(1))
	require.NoError(t, err)
	t.Cleanup(m.Free)
	nntest.RandomWeights(m, 3, 5, 0.3)
	require.NoError(t, m.AttachLoRA(nn.LoRAConfig{Rank: 4, Alpha: 8, Targets: []string{"down", "q", "v"}}, 7))
	rng := rand.New(rand.NewPCG(1, 1))
	for _, p := range m.LoRA.Params {
		v := make([]float32, p.W.Len())
		for i := range v {
			v[i] = float32(0.1 * rng.NormFloat64())
		}
		p.W.Set(v)
	}
	return m
}

func logits(t *testing.T, m *nn.Model) []float32 {
	t.Helper()
	p, err := m.Forward([]int32{5, 17, 3, 250, 9, 1, 77}, nn.Pack(4, 3))
	require.NoError(t, err)
	defer p.Free()
	lg := p.Logits()
	defer lg.Free()
	d, err := lg.Data()
	require.NoError(t, err)
	return d
}

// TestWritePEFT: the folder has PEFT's config and tensor names and shapes,
// and ReadPEFT puts the same adapters back on a fresh base.
func TestWritePEFT(t *testing.T) {
	m := loraModel(t)
	dir := filepath.Join(t.TempDir(), "adapter")
	require.NoError(t, WritePEFT(m, dir, "/models/base", false))

	var cfg map[string]any
	data, err := os.ReadFile(filepath.Join(dir, "adapter_config.json"))
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(data, &cfg))
	for k, want := range map[string]any{
		"peft_type": "LORA", "task_type": "CAUSAL_LM", "base_model_name_or_path": "/models/base",
		"r": 4.0, "lora_alpha": 8.0, "lora_dropout": 0.0, "bias": "none", "use_rslora": false, "use_dora": false,
		"fan_in_fan_out": false, "target_modules": []any{"q_proj", "v_proj", "down_proj"},
	} {
		require.Equal(t, want, cfg[k], k)
	}

	infos, err := safetensors.FileInfo(filepath.Join(dir, "adapter_model.safetensors"))
	require.NoError(t, err)
	c := m.Cfg
	C, HD, KVD, F := c.HiddenSize, c.NumHeads*c.HeadDim, c.NumKVHeads*c.HeadDim, c.IntermediateSize
	want := map[string][]int{}
	for _, l := range []string{"0", "1"} {
		p := "base_model.model.model.layers." + l + "."
		want[p+"self_attn.q_proj.lora_A.weight"] = []int{4, C}
		want[p+"self_attn.q_proj.lora_B.weight"] = []int{HD, 4}
		want[p+"self_attn.v_proj.lora_A.weight"] = []int{4, C}
		want[p+"self_attn.v_proj.lora_B.weight"] = []int{KVD, 4}
		want[p+"mlp.down_proj.lora_A.weight"] = []int{4, F}
		want[p+"mlp.down_proj.lora_B.weight"] = []int{C, 4}
	}
	require.Len(t, infos, len(want))
	for name, shape := range want {
		require.Contains(t, infos, name)
		require.Equal(t, shape, infos[name].Shape, name)
		require.Equal(t, "F32", infos[name].DType, name)
	}

	base, err := nn.New(m.Cfg, cpu.New(1))
	require.NoError(t, err)
	defer base.Free()
	nntest.RandomWeights(base, 3, 5, 0.3)
	name, err := ReadPEFT(base, dir)
	require.NoError(t, err)
	require.Equal(t, "/models/base", name)
	require.Equal(t, m.LoRA.Cfg.Rank, base.LoRA.Cfg.Rank)
	require.Equal(t, logits(t, m), logits(t, base))

	require.ErrorContains(t, WritePEFT(m, dir, "x", false), "not empty")
	require.NoError(t, WritePEFT(m, dir, "x", true))
}

// TestReadPEFTRefuses what nn's LoRA cannot compute, each in one line, and
// leaves the base without adapters.
func TestReadPEFTRefuses(t *testing.T) {
	m := loraModel(t)
	dir := filepath.Join(t.TempDir(), "adapter")
	require.NoError(t, WritePEFT(m, dir, "base", false))
	cfgPath := filepath.Join(dir, "adapter_config.json")
	orig, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	edit := func(k string, v any) {
		var cfg map[string]any
		require.NoError(t, json.Unmarshal(orig, &cfg))
		cfg[k] = v
		data, err := json.Marshal(cfg)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(cfgPath, data, 0o644))
	}
	for _, c := range []struct {
		key  string
		val  any
		want string
	}{
		{"use_dora", true, "only plain LoRA"},
		{"peft_type", "IA3", `peft_type "IA3"`},
		{"target_modules", []string{"q_proj", "embed_tokens"}, `"embed_tokens" is not one nn adapts`},
		{"rank_pattern", map[string]int{"q_proj": 8}, "rank_pattern is not supported"},
		{"r", 3, "missing or misshapen base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"},
	} {
		edit(c.key, c.val)
		base, err := nn.New(m.Cfg, cpu.New(1))
		require.NoError(t, err)
		_, err = ReadPEFT(base, dir)
		require.ErrorContains(t, err, c.want)
		require.Nil(t, base.LoRA)
		base.Free()
	}
	require.ErrorContains(t, WritePEFT(loraBaseOnly(t), t.TempDir(), "b", false), "no LoRA adapters")
}

func loraBaseOnly(t *testing.T) *nn.Model {
	m, err := nn.New(testConfig(true), cpu.New(1))
	require.NoError(t, err)
	t.Cleanup(m.Free)
	return m
}

// TestWriteMergesLoRA: Write of a model with adapters writes the merged
// weights, which load back to the adapted model's logits.
func TestWriteMergesLoRA(t *testing.T) {
	m := loraModel(t)
	out := filepath.Join(t.TempDir(), "merged")
	require.NoError(t, Write(Source{Model: m}, out, Options{}))
	back := loadModel(t, out)
	require.Nil(t, back.Model.LoRA)
	want, got := logits(t, m), logits(t, back.Model)
	for i := range want {
		require.InDelta(t, want[i], got[i], 1e-5, "logit %d", i)
	}
	base, err := nn.New(m.Cfg, cpu.New(1))
	require.NoError(t, err)
	defer base.Free()
	nntest.RandomWeights(base, 3, 5, 0.3)
	require.NotEqual(t, logits(t, base), got)
}
