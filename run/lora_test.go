package run

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/internal/exitcode"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/safetensors"
)

func smoke(t *testing.T, out string) Config {
	t.Helper()
	c, err := Preset("smoke")
	require.NoError(t, err)
	c.Out, c.Threads = out, 1
	return c
}

// TestLoRARun: a run from a Hugging Face --model with --lora-rank trains the
// adapters only, checkpoints them against the base's hash, exports hf/
// merged and peft/, and resumed after its first RL step ends with the same
// checkpoint bytes as a run that was not interrupted.
func TestLoRARun(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	bc := smoke(t, filepath.Join(tmp, "base"))
	bc.RLSteps = 0
	require.NoError(t, Start(ctx, bc, Options{}))
	base := filepath.Join(tmp, "base", "hf")
	baseBefore, err := os.ReadFile(filepath.Join(base, "model.safetensors"))
	require.NoError(t, err)

	lora := func(out string, steps int) Config {
		c := smoke(t, out)
		c.Model, c.RLSteps, c.EvalQuestions = base, steps, 4
		c.LoRARank, c.LoRATargets = 4, "q,v,down"
		c.EntropyCoef = 0.01 // a gradient even when a group's rewards are equal
		return c
	}
	var log bytes.Buffer
	a := filepath.Join(tmp, "a")
	require.NoError(t, Start(ctx, lora(a, 2), Options{Out: &log}))
	require.Contains(t, log.String(), "rank 4, alpha 8 on q,v,down: ")

	final := filepath.Join(a, "checkpoints", "final.safetensors")
	info, ok, err := nn.ReadLoRACheckpointInfo(final)
	require.NoError(t, err)
	require.True(t, ok, "a LoRA run's checkpoints hold adapters")
	require.Equal(t, base, info.Base)
	require.Equal(t, []string{"q", "v", "down"}, info.LoRA.Targets)
	ts, err := safetensors.ReadFile(final)
	require.NoError(t, err)
	for name := range ts {
		require.Contains(t, name, ".lora_", "only adapters and their moments: %s", name)
	}
	trained := false // B starts at zero; two RL steps (with an entropy bonus) move it
	for _, v := range ts["model.layers.0.self_attn.q_proj.lora_B.weight"].Data {
		trained = trained || v != 0
	}
	require.True(t, trained)
	meta, err := safetensors.ReadMetadata(final)
	require.NoError(t, err)
	require.Equal(t, "2", meta["step"], "one optimizer step per RL step")
	require.FileExists(t, filepath.Join(a, "peft", "adapter_config.json"))
	require.FileExists(t, filepath.Join(a, "hf", "model.safetensors"))
	baseAfter, err := os.ReadFile(filepath.Join(base, "model.safetensors"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(baseBefore, baseAfter))

	b := filepath.Join(tmp, "b")
	require.NoError(t, Start(ctx, lora(b, 1), Options{}))
	flags := lora("", 2)
	require.NoError(t, Resume(ctx, b, flags, []string{"rl-steps"}, Options{}))
	wa, err := os.ReadFile(final)
	require.NoError(t, err)
	wb, err := os.ReadFile(filepath.Join(b, "checkpoints", "final.safetensors"))
	require.NoError(t, err)
	require.True(t, bytes.Equal(wa, wb), "a resumed LoRA run ends with the same checkpoint")
}

func TestLoRAFlagsRefused(t *testing.T) {
	for _, tc := range []struct {
		edit func(*Config)
		want string
	}{
		{func(c *Config) { c.LoRARank = 4 }, "--lora-rank needs a pretrained base"},
		{func(c *Config) { c.LoRAAlpha = 4 }, "--lora-alpha and --lora-targets need --lora-rank"},
		{func(c *Config) { c.LoRARank, c.Model, c.LoRATargets = 4, ".", "q,attn" }, `unknown target "attn"`},
		{func(c *Config) { c.LoRARank, c.Model = -1, "." }, "rank -1"},
	} {
		c := Default()
		tc.edit(&c)
		err := c.validateLoRA()
		require.ErrorContains(t, err, tc.want)
		var ue exitcode.UsageError
		require.ErrorAs(t, err, &ue)
	}
}

// copyHF copies the Hugging Face folder src to dst with its weights
// rounded to bf16 and stored as dtype, and its config saying bfloat16.
func copyHF(t *testing.T, src, dst, dtype string) {
	t.Helper()
	require.NoError(t, os.MkdirAll(dst, 0o755))
	entries, err := os.ReadDir(src)
	require.NoError(t, err)
	for _, e := range entries {
		data, err := os.ReadFile(filepath.Join(src, e.Name()))
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(filepath.Join(dst, e.Name()), data, 0o644))
	}
	ts, err := safetensors.ReadFile(filepath.Join(src, "model.safetensors"))
	require.NoError(t, err)
	for name, x := range ts {
		for i, v := range x.Data {
			x.Data[i] = safetensors.BF16ToF32(safetensors.F32ToBF16(v))
		}
		ts[name] = x
	}
	require.NoError(t, safetensors.WriteFileAs(filepath.Join(dst, "model.safetensors"), ts, map[string]string{"format": "pt"}, dtype))
	cfg, err := nn.LoadConfig(filepath.Join(src, "config.json"))
	require.NoError(t, err)
	cfg.TorchDtype = "bfloat16"
	require.NoError(t, os.WriteFile(filepath.Join(dst, "config.json"), cfg.HFJSON(), 0o644))
}

// TestLoRABF16Base: --precision bf16 with --lora-rank on a BF16-stored base
// keeps it in bf16 and trains the adapters bit for bit as the float32 base
// did (the same weights stored as F32, which stays float32), with the bf16
// and with the float32 rollout engine; resumed, it ends with the same
// checkpoint.
func TestLoRABF16Base(t *testing.T) {
	ctx := context.Background()
	tmp := t.TempDir()
	bc := smoke(t, filepath.Join(tmp, "base"))
	bc.RLSteps = 0
	require.NoError(t, Start(ctx, bc, Options{}))
	b16, b32 := filepath.Join(tmp, "b16"), filepath.Join(tmp, "b32")
	copyHF(t, filepath.Join(tmp, "base", "hf"), b16, "BF16")
	copyHF(t, filepath.Join(tmp, "base", "hf"), b32, "F32")

	lora := func(model, out string, steps int, rollout string) Config {
		c := smoke(t, out)
		c.Model, c.RLSteps, c.EvalQuestions = model, steps, 4
		c.LoRARank, c.LoRATargets = 4, "q,v,o,down"
		c.EntropyCoef = 0.01
		c.Precision, c.RolloutPrecision = "bf16", rollout
		return c
	}
	adapters := func(run string) map[string]safetensors.Tensor {
		ts, err := safetensors.ReadFile(filepath.Join(run, "checkpoints", "final.safetensors"))
		require.NoError(t, err)
		return ts
	}
	for _, rollout := range []string{"bf16", "f32"} {
		var log16, log32 bytes.Buffer
		r16, r32 := filepath.Join(tmp, "r16"+rollout), filepath.Join(tmp, "r32"+rollout)
		require.NoError(t, Start(ctx, lora(b16, r16, 2, rollout), Options{Out: &log16}))
		require.NoError(t, Start(ctx, lora(b32, r32, 2, rollout), Options{Out: &log32}))
		require.Contains(t, log16.String(), "bf16 base")
		require.NotContains(t, log32.String(), "bf16 base")
		require.Equal(t, adapters(r32), adapters(r16), "rollout %s", rollout)
	}
	// Resumed after its first step, the bf16-base run ends as the straight one.
	r := filepath.Join(tmp, "resumed")
	require.NoError(t, Start(ctx, lora(b16, r, 1, "bf16"), Options{}))
	require.NoError(t, Resume(ctx, r, lora(b16, "", 2, "bf16"), []string{"rl-steps"}, Options{}))
	require.Equal(t, adapters(filepath.Join(tmp, "r16bf16")), adapters(r))
}
