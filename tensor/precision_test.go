package tensor

import (
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/goarpo/arpo/backend"
)

// f32Only hides the CPU backend's BF16 interface.
type f32Only struct{ backend.Backend }

func TestPrecisionParse(t *testing.T) {
	for in, want := range map[string]Precision{"f32": F32, "FP32": F32, "bf16": BF16, "bfloat16": BF16} {
		p, err := ParsePrecision(in)
		require.NoError(t, err)
		require.Equal(t, want, p)
		back, err := ParsePrecision(p.String())
		require.NoError(t, err)
		require.Equal(t, p, back)
	}
	_, err := ParsePrecision("fp16")
	require.ErrorContains(t, err, "want f32 or bf16")
}

// TestMatMulBF16: a product with any BF16 tensor is the backend's GemmBF16
// (bit for bit), differs from the float32 product on values that round, and
// views inherit the precision.
func TestMatMulBF16(t *testing.T) {
	b := cpuBackend(t)
	rng := rand.New(rand.NewPCG(1, 2))
	rnd := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		return x
	}
	const T, in, out = 37, 70, 45
	x, w := FromSlice(b, rnd(T*in), T, in), FromSlice(b, rnd(out*in), out, in)
	y32, y16 := New(b, T, out), New(b, T, out)
	Linear(y32, x, w, nil)
	w.SetPrecision(BF16)
	require.Equal(t, BF16, w.Rows(0, 3).Precision())
	require.Equal(t, BF16, w.Reshape(-1).Precision())
	Linear(y16, x, w, nil)
	want := New(b, T, out)
	b.(backend.BF16).GemmBF16(false, true, T, out, in, 1, x.View(), in, w.View(), in, 0, want.View(), out)
	require.Equal(t, data(t, want), data(t, y16))
	require.NotEqual(t, data(t, y32), data(t, y16))
	// Close to float32: bf16 keeps 8 significant bits of each operand.
	a, c := data(t, y32), data(t, y16)
	for i := range a {
		require.InDelta(t, a[i], c[i], 0.05)
	}

	// The gradient of the weight: BF16 because dw is.
	w.SetPrecision(F32)
	dy, dw, dw16 := FromSlice(b, rnd(T*out), T, out), New(b, out, in), New(b, out, in)
	dw16.SetPrecision(BF16)
	LinearBackward(nil, dw16, nil, dy, x, w)
	LinearBackward(nil, dw, nil, dy, x, w)
	wantG := New(b, out, in)
	b.(backend.BF16).GemmBF16(true, false, out, in, T, 1, dy.View(), out, x.View(), in, 1, wantG.View(), in)
	require.Equal(t, data(t, wantG), data(t, dw16))
	require.NotEqual(t, data(t, dw), data(t, dw16))

	require.NoError(t, CheckPrecision(b, BF16))
	nb := f32Only{b}
	require.ErrorContains(t, CheckPrecision(nb, BF16), "no bf16 GEMM")
	require.NoError(t, CheckPrecision(nb, F32))
	x2, w2, y2 := FromSlice(nb, rnd(4), 2, 2), FromSlice(nb, rnd(4), 2, 2), New(nb, 2, 2)
	w2.SetPrecision(BF16)
	require.Panics(t, func() { Linear(y2, x2, w2, nil) })
}
