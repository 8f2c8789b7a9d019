package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas32"

	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
)

// gemmCase is one Gemm call: shapes, transposes, scalars, leading
// dimensions and the offsets of the operands inside their buffers.
type gemmCase struct {
	ta, tb        bool
	m, n, k       int
	alpha, beta   float32
	lda, ldb, ldc int
	offA, offB    int
	offC          int
}

func (g gemmCase) String() string {
	return fmt.Sprintf("ta=%v tb=%v %dx%dx%d alpha=%v beta=%v ld=%d,%d,%d", g.ta, g.tb, g.m, g.n, g.k, g.alpha, g.beta, g.lda, g.ldb, g.ldc)
}

// stored returns the rows and columns of X as stored for op(X) rows x cols.
func stored(trans bool, rows, cols int) (int, int) {
	if trans {
		return cols, rows
	}
	return rows, cols
}

const guardVal = float32(-7777)

// gemmOperands holds the host data of one case: a, b and c hold the stored
// matrices (with their padding) starting at index 0 of the operand; the
// backend buffers carry them after off guard elements and before a guard
// tail.
type gemmOperands struct {
	a, b, c []float32
}

const guardLen = 9

func newOperands(rng *rand.Rand, g gemmCase) gemmOperands {
	ra, _ := stored(g.ta, g.m, g.k)
	rb, _ := stored(g.tb, g.k, g.n)
	fill := func(n int) []float32 {
		x := make([]float32, n)
		for i := range x {
			x[i] = rng.Float32()*2 - 1
		}
		return x
	}
	o := gemmOperands{a: fill(max(ra, 1) * g.lda), b: fill(max(rb, 1) * g.ldb), c: fill(max(g.m, 1) * g.ldc)}
	if g.beta == 0 {
		// beta = 0 must not read C: NaN there must not leak into the result.
		for i := range o.c {
			o.c[i] = float32(math.NaN())
		}
	}
	return o
}

// upload places x in a fresh buffer after off guard values, with a guard
// tail, and returns the view of x.
func upload(c *CPU, x []float32, off int) backend.View {
	buf := c.Alloc(off + len(x) + guardLen)
	data := Slice(backend.Whole(buf), buf.Len())
	for i := range data {
		data[i] = guardVal
	}
	v := backend.View{Buf: buf, Off: off}
	c.Write(v, x)
	return v
}

// runGemm runs the case on backend c and returns the whole C buffer.
func runGemm(c *CPU, g gemmCase, o gemmOperands) []float32 {
	a := upload(c, o.a, g.offA)
	b := upload(c, o.b, g.offB)
	cv := upload(c, o.c, g.offC)
	c.Gemm(g.ta, g.tb, g.m, g.n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, cv, g.ldc)
	return Slice(backend.Whole(cv.Buf), cv.Buf.Len())
}

func blasT(t bool) blas.Transpose {
	if t {
		return blas.Trans
	}
	return blas.NoTrans
}

// checkAgainstGonum compares got (the whole C buffer of runGemm) with
// gonum's float32 Sgemm, with an error bound relative to
// |alpha|*sum|a||b| + |beta*c| per element, and checks that nothing outside
// the m x n block changed.
func checkAgainstGonum(t *testing.T, g gemmCase, o gemmOperands, got []float32) {
	t.Helper()
	want := append([]float32(nil), o.c...)
	if g.m > 0 && g.n > 0 {
		ra, ca := stored(g.ta, g.m, g.k)
		rb, cb := stored(g.tb, g.k, g.n)
		blas32.Gemm(blasT(g.ta), blasT(g.tb), g.alpha,
			blas32.General{Rows: ra, Cols: ca, Stride: g.lda, Data: o.a},
			blas32.General{Rows: rb, Cols: cb, Stride: g.ldb, Data: o.b},
			g.beta, blas32.General{Rows: g.m, Cols: g.n, Stride: g.ldc, Data: want})
	}
	for i, v := range got {
		idx := i - g.offC
		r, col := idx/max(g.ldc, 1), idx%max(g.ldc, 1)
		inside := idx >= 0 && r < g.m && col < g.n
		if !inside {
			if idx >= 0 && idx < len(o.c) {
				// Padding between rows keeps its old value (NaN for beta = 0).
				old := o.c[idx]
				require.True(t, v == old || (v != v && old != old), "%v: padding C[%d] changed: %v", g, idx, v)
			} else {
				require.Equal(t, guardVal, v, "%v: guard %d of C changed", g, i)
			}
			continue
		}
		var mag float32
		for p := 0; p < g.k; p++ {
			mag += abs32(at(o.a, g.lda, g.ta, r, p) * at(o.b, g.ldb, g.tb, p, col))
		}
		mag *= abs32(g.alpha)
		if g.beta != 0 {
			mag += abs32(g.beta * o.c[idx])
		}
		// Both sums may each be off by about k units of roundoff of mag.
		tol := float64(mag) * float64(g.k+2) * 0x1p-23
		require.False(t, math.IsNaN(float64(v)), "%v: C(%d,%d) is NaN", g, r, col)
		require.InDelta(t, want[idx], v, tol+1e-30, "%v: C(%d,%d)", g, r, col)
	}
}

func at(x []float32, ld int, trans bool, i, j int) float32 {
	if trans {
		return x[j*ld+i]
	}
	return x[i*ld+j]
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// cases builds the shape grid: every transpose case, several scalar pairs,
// leading dimensions equal to or larger than the width, and offsets.
func gemmCases(rng *rand.Rand, shapes [][3]int) []gemmCase {
	var out []gemmCase
	scalars := [][2]float32{{1, 0}, {-0.5, 1}, {1.5, 0.25}, {0, 2}}
	for si, sh := range shapes {
		for tr := 0; tr < 4; tr++ {
			g := gemmCase{ta: tr&1 != 0, tb: tr&2 != 0, m: sh[0], n: sh[1], k: sh[2]}
			ab := scalars[(si+tr)%len(scalars)]
			g.alpha, g.beta = ab[0], ab[1]
			pad := (si + tr) % 3 * 5 // 0, 5 or 10 extra elements per row
			_, ca := stored(g.ta, g.m, g.k)
			_, cb := stored(g.tb, g.k, g.n)
			g.lda, g.ldb, g.ldc = max(ca, 1)+pad, max(cb, 1)+pad/5, max(g.n, 1)+pad
			g.offA, g.offB, g.offC = rng.IntN(7), rng.IntN(7), guardLen+rng.IntN(3)
			out = append(out, g)
		}
	}
	return out
}

var gemmShapes = [][3]int{
	{0, 0, 0}, {0, 5, 3}, {4, 0, 3}, {3, 4, 0}, {1, 1, 1}, {1, 1, 7}, {2, 3, 4},
	{1, 37, 19}, {1, 700, 300}, {45, 1, 33}, {300, 1, 90}, {7, 9, 13},
	{14, 32, 256}, {15, 33, 257}, {13, 31, 255}, {29, 65, 100}, {64, 64, 64},
	{100, 3, 50}, {3, 100, 50}, {130, 270, 520}, {231, 97, 300},
	// small m: the dot-product path when B is transposed
	{2, 70, 50}, {5, 200, 33}, {8, 45, 300}, {9, 40, 40}, {23, 37, 61}, {64, 20, 100}, {65, 20, 100},
	// more than one row block (gemmMB) and column block (gemmNC)
	{2100, 40, 30}, {20, 4200, 30},
}

func TestGemmMatchesGonum(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12))
	cases := gemmCases(rng, gemmShapes)
	for _, threads := range []int{1, 2, 3} {
		c := New(threads)
		for _, g := range cases {
			o := newOperands(rng, g)
			checkAgainstGonum(t, g, o, runGemm(c, g, o))
		}
	}
}

// TestGemmEveryKernel runs the whole driver with each micro-kernel variant
// this CPU supports (AVX-512 tiles, AVX2, generic), against gonum.
func TestGemmEveryKernel(t *testing.T) {
	defer func(k *asm.SgemmKernel) { gemmKernel = k }(gemmKernel)
	rng := rand.New(rand.NewPCG(13, 14))
	cases := gemmCases(rng, [][3]int{{15, 33, 17}, {29, 65, 300}, {130, 70, 40}, {6, 64, 5}})
	c := New(2)
	for _, s := range asm.SgemmKernels() {
		gemmKernel = s
		for _, g := range cases {
			o := newOperands(rng, g)
			t.Run(s.Name, func(t *testing.T) { checkAgainstGonum(t, g, o, runGemm(c, g, o)) })
		}
	}
}

// TestGemmBitwiseAcrossThreads checks the determinism contract: the same
// inputs give identical bits on 1, 2, 3 and 4 threads, on shapes that use
// many tasks, several K blocks and the skinny paths.
func TestGemmBitwiseAcrossThreads(t *testing.T) {
	rng := rand.New(rand.NewPCG(15, 16))
	cases := gemmCases(rng, [][3]int{{300, 520, 600}, {1, 3000, 700}, {6, 300, 129}, {257, 1, 300}, {129, 257, 70}})
	for _, g := range cases {
		o := newOperands(rng, g)
		ref := runGemm(New(1), g, o)
		for threads := 2; threads <= 4; threads++ {
			got := runGemm(New(threads), g, o)
			for i := range ref {
				require.Equal(t, math.Float32bits(ref[i]), math.Float32bits(got[i]), "%v threads=%d: C[%d] %v != %v", g, threads, i, got[i], ref[i])
			}
		}
	}
}

func TestGemmAlphaZeroIgnoresAB(t *testing.T) {
	c := New(2)
	nan := float32(math.NaN())
	a := upload(c, []float32{nan, nan, nan, nan}, 0)
	b := upload(c, []float32{nan, nan, nan, nan}, 0)
	cv := upload(c, []float32{1, 2, 3, 4}, 0)
	c.Gemm(false, false, 2, 2, 2, 0, a, 2, b, 2, 3, cv, 2)
	require.Equal(t, []float32{3, 6, 9, 12}, Slice(cv, 4))
	c.Gemm(false, false, 2, 2, 2, 0, a, 2, b, 2, 0, cv, 2)
	require.Equal(t, []float32{0, 0, 0, 0}, Slice(cv, 4))
}

func TestGemmPanicsOnBadShapes(t *testing.T) {
	c := New(1)
	buf := backend.Whole(c.Alloc(64))
	require.Panics(t, func() { c.Gemm(false, false, -1, 2, 2, 1, buf, 2, buf, 2, 0, buf, 2) })
	require.Panics(t, func() { c.Gemm(false, false, 2, 2, 3, 1, buf, 2, buf, 2, 0, buf, 2) }, "lda < k")
	require.Panics(t, func() { c.Gemm(true, false, 4, 2, 3, 1, buf, 3, buf, 2, 0, buf, 2) }, "lda < m for A^T")
	require.Panics(t, func() { c.Gemm(false, false, 8, 8, 8, 1, buf, 8, buf, 8, 0, buf.At(1), 8) }, "C past the buffer")
	require.NotPanics(t, func() { c.Gemm(false, false, 4, 4, 4, 1, buf, 4, buf, 4, 0, buf.At(16), 4) })
}

func TestGemmTaskShape(t *testing.T) {
	for _, c := range []struct{ m, n, mt, nt int }{
		{2048, 2048, 112, 256}, // plenty of tasks: the default
		{256, 256, 112, 64},    // a weight gradient: split until 8 tasks
		{1000, 64, 112, 256},   // 9 row tasks already
		{14, 32, 112, 256},     // one tile: nothing to split, the defaults stay
	} {
		mt, nt := gemmTaskShape(c.m, c.n, 14, 32)
		require.Equal(t, [2]int{c.mt, c.nt}, [2]int{mt, nt}, "%d x %d", c.m, c.n)
		require.Zero(t, mt%14)
		require.Zero(t, nt%32)
	}
}
