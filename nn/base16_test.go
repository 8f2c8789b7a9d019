package nn

import (
	"errors"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/nn/safetensors"
)

// cpuBF16 is the CPU backend (which has backend.BF16) with 2 threads.
func cpuBF16(t *testing.T) backend.Backend {
	t.Helper()
	b, err := backend.Open("cpu", backend.Options{Threads: 2})
	require.NoError(t, err)
	return b
}

// writeHFFolder writes a random model of cfg as a Hugging Face folder with
// its weights stored as dtype ("BF16", "F32" or "F16").
func writeHFFolder(t *testing.T, cfg Config, seed uint64, dtype string) string {
	t.Helper()
	m, err := New(cfg, refBackend{})
	require.NoError(t, err)
	randomize(t, m, seed, 0.5)
	ws, err := m.Weights()
	require.NoError(t, err)
	dir := t.TempDir()
	require.NoError(t, safetensors.WriteFileAs(filepath.Join(dir, "model.safetensors"), ws, map[string]string{"format": "pt"}, dtype))
	cfg.TorchDtype = map[string]string{"BF16": "bfloat16", "F32": "float32", "F16": "float16"}[dtype]
	require.NoError(t, os.WriteFile(filepath.Join(dir, "config.json"), cfg.HFJSON(), 0o644))
	return dir
}

// loadPair loads dir as a float32 model in BF16 precision (today's path)
// and as a bf16 base.
func loadPair(t *testing.T, dir string, b backend.Backend) (f32, base *Model) {
	t.Helper()
	f32, err := LoadHF(dir, b)
	require.NoError(t, err)
	require.NoError(t, f32.SetPrecision(BF16))
	base, err = LoadHFBF16Base(dir, b)
	require.NoError(t, err)
	t.Cleanup(func() { f32.Free(); base.Free() })
	return f32, base
}

func bits(v []float32) []uint32 {
	out := make([]uint32, len(v))
	for i, x := range v {
		out[i] = math.Float32bits(x)
	}
	return out
}

// TestBF16BaseLoad: a bf16 base holds the linear weights as bf16 (BF16
// copied; F32 and F16 rounded as GemmBF16 rounds them), everything else as
// the float32 model does, and no gradients; read back widened, a bf16
// checkpoint's weights and hash are the float32 model's.
func TestBF16BaseLoad(t *testing.T) {
	b := cpuBF16(t)
	for name, cfg := range tinyConfigs() {
		for _, dtype := range []string{"BF16", "F32", "F16"} {
			dir := writeHFFolder(t, cfg, 3, dtype)
			f32, base := loadPair(t, dir, b)
			require.True(t, base.BF16Base(), name)
			require.False(t, f32.BF16Base())
			require.Equal(t, BF16, base.Precision())
			require.Equal(t, f32.NumParams(), base.NumParams())
			require.Nil(t, base.G)
			want, err := f32.Weights()
			require.NoError(t, err)
			got, err := base.Weights()
			require.NoError(t, err)
			linear := 0
			for _, p := range base.Params {
				w := want[p.Name].Data
				if base.StoredBF16(p.W) {
					require.True(t, IsLinearWeight(p.Name), p.Name)
					linear++
					h := make([]uint16, len(w))
					asm.F32ToBF16(h, w)
					r := make([]float32, len(h))
					asm.BF16ToF32(r, h)
					w = r
				}
				require.Equal(t, bits(w), bits(got[p.Name].Data), "%s %s %s", name, dtype, p.Name)
			}
			require.Equal(t, 7*cfg.NumLayers, linear)
			// The staging path (a device backend's) loads the same bits.
			loadIntoHost = false
			staged, err := LoadHFBF16Base(dir, b)
			loadIntoHost = true
			require.NoError(t, err)
			sw, err := staged.Weights()
			require.NoError(t, err)
			staged.Free()
			require.Equal(t, got, sw)
			h32, err := f32.BaseHash()
			require.NoError(t, err)
			h16, err := base.BaseHash()
			require.NoError(t, err)
			if dtype == "BF16" {
				require.Equal(t, h32, h16, "%s: a bf16 checkpoint hashes the same in either storage", name)
			} else {
				require.NotEqual(t, h32, h16, "%s %s: rounded weights are another base", name, dtype)
			}
		}
	}
}

// TestBF16BaseMatchesF32 proves the bf16 base against the float32 model
// in BF16 precision, bit for bit: log-probs and entropies, the loss and
// every adapter gradient, AdamW steps on the adapters, and the merged
// weights (in bf16, and in float32).
func TestBF16BaseMatchesF32(t *testing.T) {
	b := cpuBF16(t)
	for name, cfg := range tinyConfigs() {
		dir := writeHFFolder(t, cfg, 4, "BF16")
		f32, base := loadPair(t, dir, b)
		rng := rand.New(rand.NewPCG(5, 6))
		tokens := randTokens(rng, 13, cfg.VocabSize)
		targets := append(tokens[1:13:13], -1)
		scores := func(m *Model) (lp, ent []float32) {
			p, err := m.Forward(tokens, Pack(8, 5))
			require.NoError(t, err)
			defer p.Free()
			lp, ent, err = p.LogProbs(targets, true)
			require.NoError(t, err)
			return lp, ent
		}
		lp32, ent32 := scores(f32)
		lp16, ent16 := scores(base)
		require.Equal(t, bits(lp32), bits(lp16), name)
		require.Equal(t, bits(ent32), bits(ent16), name)

		lc := LoRAConfig{Rank: 2, Alpha: 4, Targets: LoRATargets}
		require.NoError(t, f32.AttachLoRA(lc, 9))
		require.NoError(t, base.AttachLoRA(lc, 9))
		// Non-zero B, so that the adapters move the output and the merge.
		for _, m := range []*Model{f32, base} {
			w := make([]float32, m.LoRA.W.Len())
			r := rand.New(rand.NewPCG(7, 7))
			for i := range w {
				w[i] = float32(r.NormFloat64() * 0.1)
			}
			m.LoRA.W.Set(w)
		}
		grads := func(m *Model) (float32, []float32) {
			p, err := m.Forward(tokens, Pack(8, 5))
			require.NoError(t, err)
			defer p.Free()
			m.ZeroGrad()
			mask := make([]float32, len(tokens))
			for i := range mask {
				mask[i] = 1
			}
			loss, err := p.CrossEntropy(targets, mask, 0)
			require.NoError(t, err)
			return loss, readAll(t, m.LoRA.G)
		}
		l32, g32 := grads(f32)
		l16, g16 := grads(base)
		require.Equal(t, math.Float32bits(l32), math.Float32bits(l16), name)
		require.Equal(t, bits(g32), bits(g16), name)

		opt32, err := NewAdamW(f32, loraAdamW())
		require.NoError(t, err)
		opt16, err := NewAdamW(base, loraAdamW())
		require.NoError(t, err)
		loraSteps(t, f32, opt32, rand.NewPCG(1, 2), 3)
		loraSteps(t, base, opt16, rand.NewPCG(1, 2), 3)
		require.Equal(t, bits(readAll(t, f32.LoRA.W)), bits(readAll(t, base.LoRA.W)), name)

		// Merged: round_bf16(W + scale*B*A) in a bf16 copy, the float32
		// merge in a float32 one.
		m32, err := f32.MergedCopy()
		require.NoError(t, err)
		defer m32.Free()
		m16, err := base.MergedCopy()
		require.NoError(t, err)
		defer m16.Free()
		require.True(t, m16.BF16Base())
		require.Same(t, base.W, m16.W, "the frozen float32 weights are shared")
		mf, err := base.MergedCopyF32()
		require.NoError(t, err)
		defer mf.Free()
		require.False(t, mf.BF16Base())
		require.Equal(t, bits(readAll(t, m32.W)), bits(readAll(t, mf.W)), name)
		w32, err := m32.Weights()
		require.NoError(t, err)
		w16, err := m16.Weights()
		require.NoError(t, err)
		for _, p := range m16.Params {
			want := w32[p.Name].Data
			if m16.StoredBF16(p.W) {
				h := make([]uint16, len(want))
				asm.F32ToBF16(h, want)
				want = make([]float32, len(h))
				asm.BF16ToF32(want, h)
			}
			require.Equal(t, bits(want), bits(w16[p.Name].Data), "%s %s", name, p.Name)
		}
		// Refreshing after another step, and merging in place, give the same.
		loraSteps(t, base, opt16, rand.NewPCG(3, 4), 1)
		require.NoError(t, base.MergeInto(m16))
		again, err := base.MergedCopy()
		require.NoError(t, err)
		defer again.Free()
		a, _ := again.Weights()
		c, _ := m16.Weights()
		require.Equal(t, a, c)
		require.NoError(t, base.MergeLoRA())
		d, _ := base.Weights()
		require.Equal(t, a, d)
		require.True(t, base.BF16Base())
	}
}

// TestBF16BaseRefusals: what needs float32 base weights or gradients is an
// error naming ErrBF16Base, in one line, never a panic.
func TestBF16BaseRefusals(t *testing.T) {
	b := cpuBF16(t)
	dir := writeHFFolder(t, tinyConfigs()["llama-bias"], 1, "BF16")
	_, base := loadPair(t, dir, b)
	_, err := NewAdamW(base, DefaultAdamW(1e-3))
	require.True(t, errors.Is(err, ErrBF16Base), "%v", err)
	require.ErrorContains(t, err, "adamw over the base's weights")
	err = base.SetPrecision(F32)
	require.True(t, errors.Is(err, ErrBF16Base), "%v", err)
	require.Equal(t, BF16, base.Precision())
	require.NoError(t, base.SetPrecision(BF16))
	err = Checkpoint{Model: base}.Save(filepath.Join(t.TempDir(), "ck.safetensors"))
	require.True(t, errors.Is(err, ErrBF16Base), "%v", err)
	_, err = NewBF16Base(tinyConfigs()["llama-bias"], refBackend{})
	require.ErrorContains(t, err, "the ref backend has no bf16 GEMM")
	_, err = LoadHFBF16Base(dir, refBackend{})
	require.ErrorContains(t, err, "has no bf16 GEMM")

	// Bad files: a NaN, a dtype that does not round to bf16.
	bad := t.TempDir()
	cfg := tinyConfigs()["llama-bias"]
	m, err := New(cfg, refBackend{})
	require.NoError(t, err)
	ws, err := m.Weights()
	require.NoError(t, err)
	q := ws["model.layers.1.self_attn.q_proj.weight"]
	q.Data[3] = float32(math.NaN())
	require.NoError(t, safetensors.WriteFileAs(filepath.Join(bad, "model.safetensors"), ws, nil, "BF16"))
	require.NoError(t, os.WriteFile(filepath.Join(bad, "config.json"), cfg.HFJSON(), 0o644))
	_, err = LoadHFBF16Base(bad, b)
	require.ErrorContains(t, err, "tensor model.layers.1.self_attn.q_proj.weight holds NaN at index 3")
	q.Data[3] = math.MaxFloat32 // finite in float32; rounds to +Inf in bf16
	require.NoError(t, safetensors.WriteFileAs(filepath.Join(bad, "model.safetensors"), ws, nil, "F32"))
	_, err = LoadHFBF16Base(bad, b)
	require.ErrorContains(t, err, "holds +Inf at index 3")
}

// TestBF16BaseLoRAResume: LoRA on a bf16 base resumes bitwise from its
// checkpoint, onto a fresh bf16 base or onto a float32 base in BF16
// precision loaded from the same bf16 folder (the same hash), and both go
// on as four steps straight do.
func TestBF16BaseLoRAResume(t *testing.T) {
	b := cpuBF16(t)
	dir := writeHFFolder(t, tinyConfigs()["qwen3-llama3rope"], 2, "BF16")
	load := func(bf16Base bool) *Model {
		var m *Model
		var err error
		if bf16Base {
			m, err = LoadHFBF16Base(dir, b)
		} else {
			m, err = LoadHF(dir, b)
			require.NoError(t, err)
			err = m.SetPrecision(BF16)
		}
		require.NoError(t, err)
		t.Cleanup(m.Free)
		return m
	}
	straight := load(true)
	require.NoError(t, straight.AttachLoRA(testLoRA, 5))
	opt, err := NewAdamW(straight, loraAdamW())
	require.NoError(t, err)
	loraSteps(t, straight, opt, rand.NewPCG(1, 2), 4)

	m := load(true)
	require.NoError(t, m.AttachLoRA(testLoRA, 5))
	opt2, err := NewAdamW(m, loraAdamW())
	require.NoError(t, err)
	src := rand.NewPCG(1, 2)
	loraSteps(t, m, opt2, src, 2)
	path := filepath.Join(t.TempDir(), "ck.safetensors")
	require.NoError(t, Checkpoint{Model: m, Opt: opt2, RNG: src, Base: dir}.Save(path))
	for _, bf16Base := range []bool{true, false} {
		ck, err := LoadLoRACheckpoint(path, load(bf16Base))
		require.NoError(t, err)
		loraSteps(t, ck.Model, ck.Opt, ck.RNG, 2)
		require.Equal(t, bits(readAll(t, straight.LoRA.W)), bits(readAll(t, ck.Model.LoRA.W)), "bf16 base %v", bf16Base)
		require.Equal(t, bits(readAll(t, opt.V)), bits(readAll(t, ck.Opt.V)))
	}
}
