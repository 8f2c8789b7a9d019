package main

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend/cpu"
	"github.com/goarpo/arpo/internal/shareddata"
	"github.com/goarpo/arpo/nn"
	"github.com/goarpo/arpo/nn/load"
	"github.com/goarpo/arpo/nn/nntest"
	"github.com/goarpo/arpo/nn/safetensors"
)

func runCmd(args ...string) (int, string, string) {
	var out, errb bytes.Buffer
	code := run(args, &out, &errb)
	return code, out.String(), errb.String()
}

func TestExportSharedModel(t *testing.T) {
	src := shareddata.Path(t, "models/llama-arith-random")
	out := filepath.Join(t.TempDir(), "hf")
	code, stdout, stderr := runCmd("--model", src, "--out", out)
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "(hf, BF16)")
	l, err := load.Load(out, load.Options{Backend: cpu.New(1)})
	require.NoError(t, err)
	defer l.Free()
	assert.Equal(t, "BF16", l.Found.DType)

	// The same folder again is refused; --overwrite replaces it.
	code, _, stderr = runCmd("--model", src, "--out", out, "--dtype", "f32")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "is not empty; not overwriting it")
	code, stdout, stderr = runCmd("--model", src, "--out", out, "--dtype", "f32", "--overwrite")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "(hf, F32)")
}

// Bad input ends with exit status 2 and one line naming the problem.
func TestBadInput(t *testing.T) {
	src := shareddata.Path(t, "models/llama-arith-random")
	truncated := t.TempDir()
	for _, n := range []string{"config.json", "model.safetensors"} {
		data, err := os.ReadFile(filepath.Join(src, n))
		require.NoError(t, err)
		if n == "model.safetensors" {
			data = data[:len(data)/2]
		}
		require.NoError(t, os.WriteFile(filepath.Join(truncated, n), data, 0o644))
	}
	out := filepath.Join(t.TempDir(), "out")
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--out", out}, "--model is required"},
		{[]string{"--model", src}, "--out is required"},
		{[]string{"--model", src, "--out", out, "--dtype", "int4"}, `--dtype: dtype "int4"`},
		{[]string{"--model", src, "--out", out, "extra"}, `unexpected argument "extra"`},
		{[]string{"--model", t.TempDir(), "--out", out}, "is not a model folder"},
		{[]string{"--model", truncated, "--out", out}, "truncated file?"},
		{[]string{"--model", src, "--out", filepath.Join(src, "config.json")}, "is a file, not a folder"},
		{[]string{"--frob"}, "unknown flag: --frob"},
	} {
		code, stdout, stderr := runCmd(tc.args...)
		assert.Equal(t, 2, code, "%v: %s", tc.args, stderr)
		assert.Empty(t, stdout)
		assert.True(t, strings.HasPrefix(stderr, "export: "), stderr)
		assert.Equal(t, 1, strings.Count(stderr, "\n"), "one line: %q", stderr)
		assert.Contains(t, stderr, tc.want, tc.args)
	}
	assert.NoDirExists(t, out, "nothing is written on bad input")
}

// A LoRA run exports its adapters as a PEFT folder with --peft, and merged
// without; a run without adapters is refused --peft in one line.
func TestExportPEFT(t *testing.T) {
	base := filepath.Join(t.TempDir(), "base")
	cfg, err := nntest.WriteQwen3(base, 64, 1)
	require.NoError(t, err)
	m, err := nn.LoadHF(base, cpu.New(1))
	require.NoError(t, err)
	defer m.Free()
	require.NoError(t, m.AttachLoRA(nn.LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"v", "gate"}}, 1))
	opt, err := nn.NewAdamW(m, nn.DefaultAdamW(1e-3))
	require.NoError(t, err)
	ck := filepath.Join(t.TempDir(), "lora.safetensors")
	require.NoError(t, nn.Checkpoint{Model: m, Opt: opt, Base: base}.Save(ck))

	out := filepath.Join(t.TempDir(), "peft")
	code, stdout, stderr := runCmd("--model", ck, "--out", out, "--peft")
	require.Equal(t, 0, code, stderr)
	assert.Contains(t, stdout, "rank 2 on v,gate; base "+base)
	infos, err := safetensors.FileInfo(filepath.Join(out, "adapter_model.safetensors"))
	require.NoError(t, err)
	assert.Len(t, infos, 4*cfg.NumLayers)
	assert.FileExists(t, filepath.Join(out, "adapter_config.json"))

	merged := filepath.Join(t.TempDir(), "merged")
	code, _, stderr = runCmd("--model", ck, "--out", merged)
	require.Equal(t, 0, code, stderr)
	assert.FileExists(t, filepath.Join(merged, "model.safetensors"))

	code, _, stderr = runCmd("--model", base, "--out", filepath.Join(t.TempDir(), "x"), "--peft")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "not a LoRA checkpoint")
	code, _, stderr = runCmd("--model", ck, "--out", filepath.Join(t.TempDir(), "x"), "--peft", "--dtype", "bf16")
	assert.Equal(t, 2, code)
	assert.Contains(t, stderr, "a PEFT folder holds the adapters as trained")
}

// A LoRA checkpoint trained on a bf16 base exports its bf16 merge,
// round_bf16(W + scale*B*A), as BF16 by default, and the float32 merge of
// a float32 base with --dtype f32.
func TestExportLoRABF16Base(t *testing.T) {
	base := filepath.Join(t.TempDir(), "base")
	_, err := nntest.WriteQwen3(base, 64, 1)
	require.NoError(t, err)
	ts, err := safetensors.ReadFile(filepath.Join(base, "model.safetensors"))
	require.NoError(t, err)
	require.NoError(t, safetensors.WriteFileAs(filepath.Join(base, "model.safetensors"), ts, nil, "BF16"))
	cfgPath := filepath.Join(base, "config.json")
	cfg, err := os.ReadFile(cfgPath)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(cfgPath, bytes.Replace(cfg, []byte(`"float32"`), []byte(`"bfloat16"`), 1), 0o644))

	lc := nn.LoRAConfig{Rank: 2, Alpha: 4, Targets: []string{"q", "down"}}
	withAdapters := func(m *nn.Model) *nn.Model {
		require.NoError(t, m.AttachLoRA(lc, 1))
		w := make([]float32, m.LoRA.W.Len())
		for i := range w {
			w[i] = float32(i%7-3) * 0.01
		}
		m.LoRA.W.Set(w)
		return m
	}
	b := cpu.New(1)
	m16, err := nn.LoadHFBF16Base(base, b)
	require.NoError(t, err)
	defer m16.Free()
	withAdapters(m16)
	ck := filepath.Join(t.TempDir(), "lora.safetensors")
	require.NoError(t, nn.Checkpoint{Model: m16, Opt: must(nn.NewAdamW(m16, nn.DefaultAdamW(1e-3))), Base: base}.Save(ck))
	want16, err := must(m16.MergedCopy()).Weights()
	require.NoError(t, err)
	m32, err := nn.LoadHF(base, b)
	require.NoError(t, err)
	defer m32.Free()
	want32, err := must(withAdapters(m32).MergedCopy()).Weights()
	require.NoError(t, err)

	for _, tc := range []struct {
		dtype, stored string
		want          map[string]safetensors.Tensor
	}{{"", "BF16", want16}, {"f32", "F32", want32}} {
		out := filepath.Join(t.TempDir(), "merged")
		args := []string{"--model", ck, "--out", out}
		if tc.dtype != "" {
			args = append(args, "--dtype", tc.dtype)
		}
		code, stdout, stderr := runCmd(args...)
		require.Equal(t, 0, code, stderr)
		assert.Contains(t, stdout, tc.stored)
		got, err := safetensors.ReadFile(filepath.Join(out, "model.safetensors"))
		require.NoError(t, err)
		for name, w := range tc.want {
			require.Equal(t, tc.stored, got[name].DType, name)
			require.Equal(t, w.Data, got[name].Data, "%s %s", tc.stored, name)
		}
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}
