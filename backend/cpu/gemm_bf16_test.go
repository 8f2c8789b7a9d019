package cpu

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
	"gonum.org/v1/gonum/blas"
	"gonum.org/v1/gonum/blas/blas64"

	"github.com/goarpo/arpo/asm"
)

// bgemmCases cover odd sizes, edge tiles (m, n not multiples of 14 or 32),
// odd k, k past one K block (gemmKC = 512), every transpose, beta 0 (C not
// read), 1 and other, and leading dimensions wider than the rows.
func bgemmCases() []gemmCase {
	var cs []gemmCase
	shapes := [][3]int{{1, 1, 1}, {3, 5, 7}, {14, 32, 2}, {13, 33, 9}, {15, 31, 17}, {29, 65, 513}, {40, 100, 1030}, {70, 300, 64}}
	scalars := [][2]float32{{1, 0}, {1, 1}, {-1.5, 0.25}}
	for i, sh := range shapes {
		for t := 0; t < 4; t++ {
			ab := scalars[(i+t)%len(scalars)]
			g := gemmCase{ta: t&1 != 0, tb: t&2 != 0, m: sh[0], n: sh[1], k: sh[2], alpha: ab[0], beta: ab[1]}
			_, ca := stored(g.ta, g.m, g.k)
			_, cb := stored(g.tb, g.k, g.n)
			g.lda, g.ldb, g.ldc = ca+i%3, cb+(i+1)%3, g.n+i%2
			cs = append(cs, g)
		}
	}
	return cs
}

// bgemmOperands returns bf16 A and B and float32 C for g (NaN C when beta
// is 0).
func bgemmOperands(rng *rand.Rand, g gemmCase) (a, b []uint16, c []float32) {
	ra, _ := stored(g.ta, g.m, g.k)
	rb, _ := stored(g.tb, g.k, g.n)
	bf := func(n int) []uint16 {
		x := make([]uint16, n)
		for i := range x {
			x[i] = asm.BF16FromF32(rng.Float32()*2 - 1)
		}
		return x
	}
	a, b = bf(ra*g.lda), bf(rb*g.ldb)
	c = make([]float32, g.m*g.ldc)
	for i := range c {
		c[i] = rng.Float32()*2 - 1
		if g.beta == 0 {
			c[i] = float32(math.NaN())
		}
	}
	return a, b, c
}

// gonumBF16 returns alpha*op(A)*op(B) + beta*C in float64 from the widened
// operands (gonum's Dgemm), and alpha*|op(A)|*|op(B)|, the magnitude the
// float32 rounding error scales with.
func gonumBF16(g gemmCase, a, b []uint16, c []float32) (ref, mag []float64) {
	widen := func(x []uint16, abs bool) []float64 {
		y := make([]float64, len(x))
		for i, h := range x {
			y[i] = float64(asm.F32FromBF16(h))
			if abs {
				y[i] = math.Abs(y[i])
			}
		}
		return y
	}
	ra, ca := stored(g.ta, g.m, g.k)
	rb, cb := stored(g.tb, g.k, g.n)
	tr := func(t bool) blas.Transpose {
		if t {
			return blas.Trans
		}
		return blas.NoTrans
	}
	gen := func(x []float64, r, cols, ld int) blas64.General {
		return blas64.General{Rows: r, Cols: cols, Stride: ld, Data: x}
	}
	ref = make([]float64, g.m*g.ldc)
	for i, v := range c {
		ref[i] = float64(v)
		if g.beta == 0 {
			ref[i] = 0
		}
	}
	mag = make([]float64, g.m*g.ldc)
	if g.k > 0 {
		blas64.Gemm(tr(g.ta), tr(g.tb), float64(g.alpha), gen(widen(a, false), ra, ca, g.lda), gen(widen(b, false), rb, cb, g.ldb), float64(g.beta), gen(ref, g.m, g.n, g.ldc))
		blas64.Gemm(tr(g.ta), tr(g.tb), math.Abs(float64(g.alpha)), gen(widen(a, true), ra, ca, g.lda), gen(widen(b, true), rb, cb, g.ldb), 0, gen(mag, g.m, g.n, g.ldc))
	}
	return ref, mag
}

func runBF16(c *CPU, s *asm.BgemmKernel, g gemmCase, a, b []uint16, c0 []float32) []float32 {
	out := append([]float32(nil), c0...)
	gemmBF16(c.pool, s, g.ta, g.tb, g.m, g.n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, out, g.ldc)
	return out
}

// TestGemmBF16 checks every kernel variant through the driver against
// gonum on the widened operands and against the generic twin. The error
// bound: each element is a float32 sum of k exact products (bf16 x bf16
// fits a float32 significand), so whatever the order it is within
// k*2^-24*alpha*sum|a*b| (one rounding per addition, each of at most
// 2^-24 of a partial sum bounded by the sum of magnitudes) of the exact
// value, plus the final alpha/beta roundings (a few 2^-24 of |beta*C|).
// Every variant adds the products in the same order (asm's bgemmGeneric)
// and must match the generic twin bit for bit where beta is 0 or 1
// (otherwise the assembly fuses beta*C into one rounding, the Go twin does
// not); the operands give no denormals for VDPBF16PS to flush.
func TestGemmBF16(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 22))
	c := New(2)
	for _, g := range bgemmCases() {
		a, b, c0 := bgemmOperands(rng, g)
		ref, mag := gonumBF16(g, a, b, c0)
		twin := runBF16(c, asm.BgemmKernels()[len(asm.BgemmKernels())-1], g, a, b, c0)
		for _, s := range asm.BgemmKernels() {
			got := runBF16(c, s, g, a, b, c0)
			name := fmt.Sprintf("%s %v", s.Name, g)
			for i := 0; i < g.m; i++ {
				for j := 0; j < g.ldc; j++ {
					at := i*g.ldc + j
					if j >= g.n { // padding of C: untouched
						require.Equal(t, math.Float32bits(c0[at]), math.Float32bits(got[at]), name)
						continue
					}
					tol := float64(g.k+2)*0x1p-24*mag[at] + 4*0x1p-24*math.Abs(float64(g.beta)*float64(c0[at]))
					require.InDeltaf(t, ref[at], float64(got[at]), tol+1e-30, "%s (%d,%d)", name, i, j)
					if g.beta == 0 || g.beta == 1 {
						require.Equalf(t, twin[at], got[at], "%s (%d,%d) against the generic twin", name, i, j)
					}
				}
			}
		}
	}
}

// TestGemmBF16Deterministic: the same bits for 1, 2 and 3 threads, with
// every kernel, on shapes that split into many tasks and K blocks.
func TestGemmBF16Deterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(23, 24))
	for _, g := range []gemmCase{
		{m: 129, n: 301, k: 1100, alpha: 1, beta: 0, lda: 1100, ldb: 1100, ldc: 301, tb: true},
		{m: 64, n: 512, k: 515, alpha: 0.5, beta: 1, lda: 515, ldb: 512, ldc: 512},
	} {
		a, b, c0 := bgemmOperands(rng, g)
		for _, s := range asm.BgemmKernels() {
			want := runBF16(New(1), s, g, a, b, c0)
			for _, th := range []int{2, 3} {
				got := runBF16(New(th), s, g, a, b, c0)
				for i := range want {
					require.Equalf(t, math.Float32bits(want[i]), math.Float32bits(got[i]), "%s %v threads=%d at %d", s.Name, g, th, i)
				}
			}
		}
	}
}

func TestGemmBF16Panics(t *testing.T) {
	c := New(1)
	a, b, out := make([]uint16, 6), make([]uint16, 6), make([]float32, 4)
	require.NotPanics(t, func() { c.GemmBF16(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, out, 2) })
	require.Panics(t, func() { c.GemmBF16(false, false, 2, 2, 3, 1, a[:5], 3, b, 2, 0, out, 2) })
	require.Panics(t, func() { c.GemmBF16(false, false, 2, 2, 3, 1, a, 3, b[:5], 2, 0, out, 2) })
	require.Panics(t, func() { c.GemmBF16(false, false, 2, 2, 3, 1, a, 3, b, 2, 0, out[:3], 2) })
	require.Panics(t, func() { c.GemmBF16(false, false, 2, 2, 3, 1, a, 2, b, 2, 0, out, 2) })
	require.Panics(t, func() { c.GemmBF16(false, false, -1, 2, 3, 1, a, 3, b, 2, 0, out, 2) })
}

// TestGemmBF16ZeroSizes: k == 0 or alpha == 0 scales C by beta (0: cleared,
// NaN included), as Gemm does.
func TestGemmBF16ZeroSizes(t *testing.T) {
	c := New(1)
	out := []float32{float32(math.NaN()), 2, 3, 4}
	c.GemmBF16(false, false, 2, 2, 0, 1, nil, 1, nil, 2, 0, out, 2)
	require.Equal(t, []float32{0, 0, 0, 0}, out)
	out = []float32{1, 2, 3, 4}
	c.GemmBF16(false, false, 2, 2, 3, 0, make([]uint16, 6), 3, make([]uint16, 6), 2, 2, out, 2)
	require.Equal(t, []float32{2, 4, 6, 8}, out)
}
