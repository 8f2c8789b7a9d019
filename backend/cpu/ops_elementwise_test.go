package cpu

import (
	"math"
	"testing"

	"github.com/goarpo/arpo/backend"
	"github.com/stretchr/testify/require"
)

func TestElementwise(t *testing.T) {
	c := New(3)
	rng := newRNG(1)
	for _, n := range []int{1, 7, 100, 3*elemGrain + 5} {
		a, b := randVec(rng, n, 2), randVec(rng, n, 2)
		a64, b64 := to64(a), to64(b)
		ref := func(f func(x, y float64) float64) []float64 {
			r := make([]float64, n)
			for i := range r {
				r[i] = f(a64[i], b64[i])
			}
			return r
		}

		dst := buf(make([]float32, n+2))
		c.Copy(dst.At(1), buf(a), n)
		requireClose(t, a64, data(dst)[1:n+1], 0, "copy")
		require.Zero(t, data(dst)[0], "copy writes before its range")
		require.Zero(t, data(dst)[n+1], "copy writes past its range")

		c.Fill(dst.At(1), 2.5, n)
		requireClose(t, ref(func(x, y float64) float64 { return 2.5 }), data(dst)[1:n+1], 0, "fill")

		c.Add(dst, buf(a), buf(b), n)
		requireClose(t, ref(func(x, y float64) float64 { return x + y }), data(dst)[:n], 1e-7, "add")
		c.Mul(dst, buf(a), buf(b), n)
		requireClose(t, ref(func(x, y float64) float64 { return x * y }), data(dst)[:n], 1e-7, "mul")

		// dst aliasing a, then b.
		va, vb := buf(a), buf(b)
		c.Add(va, va, vb, n)
		requireClose(t, ref(func(x, y float64) float64 { return x + y }), data(va), 1e-7, "add aliasing a")
		va, vb = buf(a), buf(b)
		c.Mul(vb, va, vb, n)
		requireClose(t, ref(func(x, y float64) float64 { return x * y }), data(vb), 1e-7, "mul aliasing b")

		va = buf(a)
		c.Scale(va, -1.5, n)
		requireClose(t, ref(func(x, y float64) float64 { return -1.5 * x }), data(va), 1e-7, "scale")
		vb = buf(b)
		c.Axpy(0.75, buf(a), vb, n)
		requireClose(t, ref(func(x, y float64) float64 { return y + 0.75*x }), data(vb), 1e-7, "axpy")

		s, err := c.SumSquares(buf(a), n)
		require.NoError(t, err)
		var want float64
		for _, x := range a64 {
			want += x * x
		}
		require.InEpsilon(t, want, float64(s), 1e-5, "sum squares n=%d", n)
	}
}

func TestCopyOverlapping(t *testing.T) {
	c := New(2)
	x := buf([]float32{1, 2, 3, 4, 5})
	c.Copy(x.At(1), x, 4)
	require.Equal(t, []float32{1, 1, 2, 3, 4}, data(x))
}

func TestAddBiasSumRows(t *testing.T) {
	c := New(3)
	rng := newRNG(2)
	for _, sh := range [][2]int{{1, 1}, {3, 5}, {700, 3}, {5, 3*colGrain + 7}} {
		rows, cols := sh[0], sh[1]
		x, bias := randVec(rng, rows*cols, 1), randVec(rng, cols, 1)
		vx := buf(x)
		c.AddBias(vx, buf(bias), rows, cols)
		want := make([]float64, rows*cols)
		sums := make([]float64, cols)
		for r := 0; r < rows; r++ {
			for j := 0; j < cols; j++ {
				want[r*cols+j] = float64(x[r*cols+j]) + float64(bias[j])
				sums[j] += float64(x[r*cols+j])
			}
		}
		requireClose(t, want, data(vx), 1e-7, "add bias")

		// SumRows accumulates: start from bias.
		dst := buf(bias)
		c.SumRows(dst, buf(x), rows, cols)
		for j := range sums {
			sums[j] += float64(bias[j])
		}
		requireClose(t, sums, data(dst), 1e-5*math.Sqrt(float64(rows)), "sum rows")
	}
}

func TestSwiGLU(t *testing.T) {
	c := New(2)
	rng := newRNG(3)
	n := 2*elemGrain + 3
	g, u := randVec(rng, n, 6), randVec(rng, n, 2)
	g[0], g[1] = 0, -100 // silu(0) = 0, a saturated sigmoid
	out := buf(make([]float32, n))
	c.SwiGLU(out, buf(g), buf(u), n)
	want := make([]float64, n)
	for i := range want {
		x := float64(g[i])
		want[i] = x / (1 + math.Exp(-x)) * float64(u[i])
	}
	requireClose(t, want, data(out), 1e-6, "swiglu")

	// out aliasing up, then gate.
	vu := buf(u)
	c.SwiGLU(vu, buf(g), vu, n)
	requireClose(t, want, data(vu), 1e-6, "swiglu out=up")
	vg := buf(g)
	c.SwiGLU(vg, vg, buf(u), n)
	requireClose(t, want, data(vg), 1e-6, "swiglu out=gate")
}

func TestSwiGLUBackward(t *testing.T) {
	c := New(2)
	rng := newRNG(4)
	const n = 37
	g, u, d := randVec(rng, n, 5), randVec(rng, n, 2), randVec(rng, n, 1)
	g64, u64 := to64(g), to64(u)
	loss := func() float64 {
		var s float64
		for i := range g64 {
			s += float64(d[i]) * g64[i] / (1 + math.Exp(-g64[i])) * u64[i]
		}
		return s
	}
	wantG, wantU := numGrad(g64, loss), numGrad(u64, loss)
	dg, du := buf(make([]float32, n)), buf(make([]float32, n))
	c.SwiGLUBackward(dg, du, buf(d), buf(g), buf(u), n)
	requireClose(t, wantG, data(dg), 1e-6, "dgate")
	requireClose(t, wantU, data(du), 1e-6, "dup")

	// Gradients written over their inputs: dgate over gate, dup over dout.
	vg, vd := buf(g), buf(d)
	c.SwiGLUBackward(vg, vd, vd, vg, buf(u), n)
	require.Equal(t, data(dg), data(vg))
	require.Equal(t, data(du), data(vd))
}

func TestSupports(t *testing.T) {
	c := New(1)
	for _, op := range backend.AllOps {
		require.True(t, c.Supports(op), op)
	}
	require.False(t, c.Supports("no_such_op"))
}
