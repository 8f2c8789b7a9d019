package nn

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/nn/safetensors"
	"github.com/goarpo/arpo/tensor"
)

// packedMatchesPlain checks that every linear weight of the packed base p
// multiplies as the plain bf16 base's weight does (GemmBF16Packed against
// GemmBF16, bit for bit, on random rows).
func packedMatchesPlain(t *testing.T, plain, p *Model) {
	t.Helper()
	bf, _ := backend.AsBF16(plain.B)
	r := rand.New(rand.NewPCG(5, 6))
	for i, pp := range p.Params {
		w := plain.Params[i].W
		buf, pk, ok := p.PackedWeight(pp.W)
		require.Equal(t, IsLinearWeight(pp.Name), ok, pp.Name)
		if !ok {
			a, err := plain.paramData(w)
			require.NoError(t, err)
			b, err := p.paramData(pp.W)
			require.NoError(t, err)
			require.Equal(t, bits(a), bits(b), pp.Name)
			continue
		}
		const m = 3
		n, k := w.Dim(0), w.Dim(1)
		xs := make([]float32, m*k)
		for j := range xs {
			xs[j] = float32(r.NormFloat64())
		}
		x, y, z := tensor.New(plain.B, m*k), tensor.New(plain.B, m*n), tensor.New(plain.B, m*n)
		x.Set(xs)
		bf.GemmBF16(false, true, m, n, k, 1, x.View(), k, w.View(), k, 0, y.View(), n)
		pk.GemmBF16Packed(m, 1, x.View(), k, buf, 0, z.View(), n)
		yd, err := y.Data()
		require.NoError(t, err)
		zd, err := z.Data()
		require.NoError(t, err)
		require.Equal(t, bits(yd), bits(zd), pp.Name)
		x.Free()
		y.Free()
		z.Free()
	}
}

// TestPackedBF16BaseWeights: a packed bf16 base loaded from a folder (BF16
// and F32 files), or filled by Init, holds the weights a plain bf16 base
// does: its packed weights multiply bit for bit as the plain ones, the
// rest are equal.
func TestPackedBF16BaseWeights(t *testing.T) {
	b := cpuBF16(t)
	for _, name := range []string{"llama-bias", "qwen2-gqa-tied"} {
		cfg := tinyConfigs()[name]
		for _, dt := range []string{"BF16", "F32"} {
			dir := writeHFFolder(t, cfg, 1, dt)
			plain, err := LoadHFBF16Base(dir, b)
			require.NoError(t, err)
			p, err := LoadHFPackedBF16Base(dir, b)
			require.NoError(t, err)
			require.True(t, p.PackedBF16Base())
			packedMatchesPlain(t, plain, p)
			plain.Free()
			p.Free()
		}
		plain, err := NewBF16Base(cfg, b)
		require.NoError(t, err)
		plain.Init(3)
		p, err := NewPackedBF16Base(cfg, b)
		require.NoError(t, err)
		p.Init(3)
		packedMatchesPlain(t, plain, p)
		plain.Free()
		p.Free()
	}
}

// TestPackedBF16BaseRefusals: what would read a packed weight as a tensor
// returns an error wrapping ErrPackedBF16Base (and so ErrBF16Base); what a
// bf16 base refuses, a packed one does too; a bad file is refused as in a
// bf16 base; without packing (a backend with no packed layout) the loader
// gives a plain bf16 base.
func TestPackedBF16BaseRefusals(t *testing.T) {
	b := cpuBF16(t)
	cfg := tinyConfigs()["llama-bias"]
	dir := writeHFFolder(t, cfg, 1, "BF16")
	p, err := LoadHFPackedBF16Base(dir, b)
	require.NoError(t, err)
	defer p.Free()
	packedErr := func(err error, what string) {
		t.Helper()
		require.True(t, errors.Is(err, ErrPackedBF16Base), "%v", err)
		require.True(t, errors.Is(err, ErrBF16Base), "%v", err)
		require.ErrorContains(t, err, what)
	}
	_, err = p.Forward([]int32{1, 2}, []backend.Seq{{Start: 0, Len: 2}})
	packedErr(err, "the training forward")
	_, err = p.Weights()
	packedErr(err, "read the weights")
	packedErr(p.SaveHF(t.TempDir()), "read the weights")
	_, err = p.BaseHash()
	packedErr(err, "read the weights")
	packedErr(p.AttachLoRA(LoRAConfig{Rank: 2, Alpha: 4, Targets: LoRATargets}, 1), "lora adapters")
	require.Nil(t, p.LoRA)
	_, err = p.MergedCopy()
	packedErr(err, "lora merge")
	plain, err := LoadHFBF16Base(dir, b)
	require.NoError(t, err)
	defer plain.Free()
	packedErr(plain.MergeInto(p), "lora merge")

	_, err = NewAdamW(p, DefaultAdamW(1e-3))
	require.True(t, errors.Is(err, ErrBF16Base), "%v", err)
	require.True(t, errors.Is(p.SetPrecision(F32), ErrBF16Base))
	require.NoError(t, p.SetPrecision(BF16))
	err = Checkpoint{Model: p}.Save(filepath.Join(t.TempDir(), "ck.safetensors"))
	require.True(t, errors.Is(err, ErrBF16Base), "%v", err)
	_, err = NewPackedBF16Base(cfg, refBackend{})
	require.ErrorContains(t, err, "the ref backend has no bf16 GEMM")

	// A bad file: a NaN in a packed weight.
	bad := t.TempDir()
	m, err := New(cfg, refBackend{})
	require.NoError(t, err)
	ws, err := m.Weights()
	require.NoError(t, err)
	ws["model.layers.1.mlp.up_proj.weight"].Data[5] = float32(math.NaN())
	require.NoError(t, safetensors.WriteFileAs(filepath.Join(bad, "model.safetensors"), ws, nil, "BF16"))
	require.NoError(t, os.WriteFile(filepath.Join(bad, "config.json"), cfg.HFJSON(), 0o644))
	_, err = LoadHFPackedBF16Base(bad, b)
	require.ErrorContains(t, err, "tensor model.layers.1.mlp.up_proj.weight holds NaN at index 5")

	packBF16Bases = false
	defer func() { packBF16Bases = true }()
	fb, err := LoadHFPackedBF16Base(dir, b)
	require.NoError(t, err)
	defer fb.Free()
	require.True(t, fb.BF16Base())
	require.False(t, fb.PackedBF16Base())
	require.NotNil(t, fb.W16)
}
