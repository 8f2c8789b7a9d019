package nn

import (
	"fmt"
	"math/rand/v2"
	"strconv"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend"
	"github.com/goarpo/arpo/nn/safetensors"
)

// bf16Run is one forward and backward of a fixture case: logits, loss and
// every gradient.
type bf16Run struct {
	logits []float32
	loss   float32
	grads  map[string][]float32
}

// runBF16Case runs case k of nn/testdata/bf16.safetensors on b in precision p.
func runBF16Case(t *testing.T, b backend.Backend, ts map[string]safetensors.Tensor, meta map[string]string, k int, p Precision) bf16Run {
	t.Helper()
	fx := fixtureCase{t, ts, meta, k}
	get, ints := fx.get, fx.ints
	cfg := fx.config()
	m, err := New(cfg, b)
	require.NoError(t, err)
	defer m.Free()
	require.NoError(t, m.SetPrecision(p))
	require.Equal(t, p, m.Precision())
	for _, prm := range m.Params {
		prm.W.Set(get("w." + prm.Name))
	}
	lens := fx.lens()
	pass, err := m.Forward(ints("tokens"), Pack(lens...))
	require.NoError(t, err)
	defer pass.Free()
	lg := pass.Logits()
	r := bf16Run{logits: readAll(t, lg), grads: map[string][]float32{}}
	lg.Free()
	m.ZeroGrad()
	r.loss, err = pass.CrossEntropy(ints("targets"), get("mask"), 0)
	require.NoError(t, err)
	for _, prm := range m.Params {
		r.grads[prm.Name] = readAll(t, prm.G)
	}
	return r
}

// TestBF16MatchesTorch compares mixed-precision training (SetPrecision(BF16))
// with scripts/torch_bf16.py (nn/testdata/bf16.safetensors), which rounds
// the operands of every linear product to bf16 at the same points (forward,
// input gradient, weight gradient) on three tiny configs: logits, loss and
// every gradient within a relative error (max-norm) of bf16Tol. The float32
// model is checked against the same fixture and must miss it by far more
// (so the fixture tells the two apart), and its gradients must agree with
// bf16's within what bf16's 8-bit significands allow (bf16GradTol): bf16
// changes the gradients by a rounding error, not by a bug's worth.
//
// bf16Tol: products are exact and summed in float32 in both; the sums'
// order differs (torch's BLAS against our kernel), a 1e-7 difference that
// is amplified only where an activation's float32 value lands on the other
// side of a bf16 rounding boundary (a 2^-8 change of one operand).
func TestBF16MatchesTorch(t *testing.T) {
	const (
		path        = "testdata/bf16.safetensors"
		bf16Tol     = 5e-4 // measured: 1e-7 typical, 5e-5 worst
		f32Miss     = 4e-3 // float32 must differ from the fixture by more (measured 1e-2 to 1.7e-2)
		bf16GradTol = 0.03 // measured: 1.7e-2 worst
	)
	ts, err := safetensors.ReadFile(path)
	require.NoError(t, err)
	meta, err := safetensors.ReadMetadata(path)
	require.NoError(t, err)
	cases, err := strconv.Atoi(meta["cases"])
	require.NoError(t, err)
	require.Equal(t, 3, cases)
	for bname, b := range testBackends(t) {
		if _, ok := backend.AsBF16(b); !ok {
			cfg, _ := ParseConfig([]byte(meta["c0.config"]))
			m, err := New(cfg, b)
			require.NoError(t, err)
			require.ErrorContains(t, m.SetPrecision(BF16), "no bf16 GEMM")
			require.Equal(t, F32, m.Precision())
			m.Free()
			continue
		}
		for k := 0; k < cases; k++ {
			t.Run(fmt.Sprintf("%s/c%d", bname, k), func(t *testing.T) {
				want := func(name string) []float32 { return ts[fmt.Sprintf("c%d.%s", k, name)].Data }
				bf := runBF16Case(t, b, ts, meta, k, BF16)
				f32 := runBF16Case(t, b, ts, meta, k, F32)
				worstF32 := 0.0
				check := func(what string, got, f32got, ref []float32) {
					e := relErr(got, ref, 1e-6)
					e32 := relErr(f32got, ref, 1e-6)
					eg := relErr(got, f32got, 1e-6)
					t.Logf("%-45s bf16 vs torch %.2e   f32 vs torch %.2e   bf16 vs f32 %.2e", what, e, e32, eg)
					require.LessOrEqual(t, e, bf16Tol, "%s: bf16 against torch's bf16", what)
					require.LessOrEqual(t, eg, bf16GradTol, "%s: bf16 against float32", what)
					worstF32 = max(worstF32, e32)
				}
				check("logits", bf.logits, f32.logits, want("logits"))
				check("loss", []float32{bf.loss}, []float32{f32.loss}, want("loss"))
				for name, g := range bf.grads {
					check("grad "+name, g, f32.grads[name], want("g."+name))
				}
				require.Greater(t, worstF32, f32Miss, "float32 run is as close to the bf16 fixture as bf16: the fixture does not test bf16")
			})
		}
	}
}

// TestBF16Deterministic: mixed-precision gradients are bitwise the same on
// 1 and 3 threads.
func TestBF16Deterministic(t *testing.T) {
	const path = "testdata/bf16.safetensors"
	ts, err := safetensors.ReadFile(path)
	require.NoError(t, err)
	meta, err := safetensors.ReadMetadata(path)
	require.NoError(t, err)
	b1, err := backend.Open("cpu", backend.Options{Threads: 1})
	require.NoError(t, err)
	b3, err := backend.Open("cpu", backend.Options{Threads: 3})
	require.NoError(t, err)
	for k := 0; k < 3; k++ {
		r1, r3 := runBF16Case(t, b1, ts, meta, k, BF16), runBF16Case(t, b3, ts, meta, k, BF16)
		require.Equal(t, r1.logits, r3.logits)
		require.Equal(t, r1.loss, r3.loss)
		require.Equal(t, r1.grads, r3.grads)
	}
}

// TestBF16WithLoRA: a LoRA model (frozen base, no base gradients) takes
// bf16 precision: its base products run in bf16, the adapters' in float32,
// SFT steps run, and they differ from float32's; the merged copy written
// by MergeInto tells an engine's bf16 copy to refresh (WeightsVersion).
func TestBF16WithLoRA(t *testing.T) {
	b, err := backend.Open("cpu", backend.Options{Threads: 2})
	require.NoError(t, err)
	run := func(p Precision) []float32 {
		m, err := New(tinyConfigs()["llama-bias"], b)
		require.NoError(t, err)
		defer m.Free()
		randomize(t, m, 2, 0.5)
		require.NoError(t, m.AttachLoRA(testLoRA, 5))
		require.NoError(t, m.SetPrecision(p))
		opt, err := NewAdamW(m, loraAdamW())
		require.NoError(t, err)
		loraSteps(t, m, opt, rand.NewPCG(1, 2), 3)
		merged, err := m.MergedCopy()
		require.NoError(t, err)
		defer merged.Free()
		v := merged.WeightsVersion()
		require.NoError(t, m.MergeInto(merged))
		require.Greater(t, merged.WeightsVersion(), v)
		return readAll(t, merged.W)
	}
	w32, w16 := run(F32), run(BF16)
	require.NotEqual(t, w32, w16)
	require.InDelta(t, 0, relErr(w16, w32, 1e-6), 0.05)
}
