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
	"github.com/goarpo/arpo/backend"
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
	gemmBF16(c.pool, s, g.ta, g.tb, g.m, g.n, g.k, g.alpha, bf16Operand{h: a}, g.lda, bf16Operand{h: b}, g.ldb, nil, g.beta, out, g.ldc)
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

// hv and fv wrap host slices as bf16 and float32 CPU views.
func hv(x []uint16) backend.View  { return backend.Whole(&BF16Buffer{data: x}) }
func fv(x []float32) backend.View { return backend.Whole(&Buffer{data: x}) }

func TestGemmBF16Panics(t *testing.T) {
	c := New(1)
	a, b, out := make([]uint16, 6), make([]uint16, 6), make([]float32, 4)
	require.NotPanics(t, func() { c.GemmBF16(false, false, 2, 2, 3, 1, hv(a), 3, hv(b), 2, 0, fv(out), 2) })
	require.Panics(t, func() { c.GemmBF16(false, false, 2, 2, 3, 1, hv(a[:5]), 3, hv(b), 2, 0, fv(out), 2) })
	require.Panics(t, func() { c.GemmBF16(false, false, 2, 2, 3, 1, hv(a), 3, hv(b[:5]), 2, 0, fv(out), 2) })
	require.Panics(t, func() { c.GemmBF16(false, false, 2, 2, 3, 1, hv(a), 3, hv(b), 2, 0, fv(make([]float32, 3)), 2) })
	require.Panics(t, func() { c.GemmBF16(false, false, 2, 2, 3, 1, hv(a), 2, hv(b), 2, 0, fv(out), 2) })
	require.Panics(t, func() { c.GemmBF16(false, false, -1, 2, 3, 1, hv(a), 3, hv(b), 2, 0, fv(out), 2) })
	require.Panics(t, func() { c.GemmBF16(false, false, 2, 2, 3, 1, hv(a), 3, hv(b), 2, 0, hv(make([]uint16, 4)), 2) })
	require.Panics(t, func() { c.ToBF16(fv(out), fv(out), 4) })
}

// TestGemmBF16ZeroSizes: k == 0 or alpha == 0 scales C by beta (0: cleared,
// NaN included), as Gemm does.
func TestGemmBF16ZeroSizes(t *testing.T) {
	c := New(1)
	out := []float32{float32(math.NaN()), 2, 3, 4}
	c.GemmBF16(false, false, 2, 2, 0, 1, hv(nil), 1, hv(nil), 2, 0, fv(out), 2)
	require.Equal(t, []float32{0, 0, 0, 0}, out)
	out = []float32{1, 2, 3, 4}
	c.GemmBF16(false, false, 2, 2, 3, 0, hv(make([]uint16, 6)), 3, fv(make([]float32, 6)), 2, 2, fv(out), 2)
	require.Equal(t, []float32{2, 4, 6, 8}, out)
}

// randF32 returns n float32 values in (-1, 1), most of which round when
// narrowed to bf16, one in sixteen an exact tie between two bf16.
func randF32(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = rng.Float32()*2 - 1
		if rng.IntN(16) == 0 {
			x[i] = math.Float32frombits(math.Float32bits(x[i])&0xffff0000 | 0x8000)
		}
	}
	return x
}

// TestGemmBF16F32Operands: a float32 operand gives the bits of its bf16
// rounding (ToBF16) passed as a bf16 buffer, in every combination of A and
// B, every transpose and kernel variant.
func TestGemmBF16F32Operands(t *testing.T) {
	rng := rand.New(rand.NewPCG(25, 26))
	c := New(2)
	defer func(k *asm.BgemmKernel) { bgemmKernel = k }(bgemmKernel)
	for _, g := range bgemmCases() {
		_, a0, c0 := bgemmOperands(rng, g) // for the sizes and C
		af, bf := randF32(rng, len(a0)), randF32(rng, g.ldb*max(g.k, g.n))
		ah, bh := c.AllocBF16(len(af)), c.AllocBF16(len(bf))
		c.ToBF16(backend.Whole(ah), fv(af), len(af))
		c.ToBF16(backend.Whole(bh), fv(bf), len(bf))
		for _, s := range asm.BgemmKernels() {
			bgemmKernel = s
			run := func(a, b backend.View) []float32 {
				out := append([]float32(nil), c0...)
				c.GemmBF16(g.ta, g.tb, g.m, g.n, g.k, g.alpha, a, g.lda, b, g.ldb, g.beta, fv(out), g.ldc)
				return out
			}
			want := f32Bits(run(backend.Whole(ah), backend.Whole(bh)))
			require.Equal(t, want, f32Bits(run(fv(af), backend.Whole(bh))), "%s %v A f32", s.Name, g)
			require.Equal(t, want, f32Bits(run(backend.Whole(ah), fv(bf))), "%s %v B f32", s.Name, g)
			require.Equal(t, want, f32Bits(run(fv(af), fv(bf))), "%s %v both f32", s.Name, g)
		}
	}
}

// f32Bits returns the bits of x, so that NaNs (C's untouched padding)
// compare equal.
func f32Bits(x []float32) []uint32 {
	b := make([]uint32, len(x))
	for i, v := range x {
		b[i] = math.Float32bits(v)
	}
	return b
}

// TestGemmBF16BatchInvariant: row i of C = X W^T (W stored n x k, a linear
// layer) has the same bits whatever the number of rows computed with it,
// its place among them and the thread count, for every kernel, float32
// and bf16 weights, inner sizes below, within and past one K block. The
// rollout engine's BatchInvariant mode relies on it; a small-m path added
// to GemmBF16 must keep it. Also checked for the backward products
// (dX = dY W, dW = dY^T X: m is a weight dimension there, so only the
// thread count may vary) through TestGemmBF16Deterministic's shapes.
func TestGemmBF16BatchInvariant(t *testing.T) {
	rng := rand.New(rand.NewPCG(27, 28))
	defer func(k *asm.BgemmKernel) { bgemmKernel = k }(bgemmKernel)
	const M = 160
	for _, sh := range [][2]int{{96, 40}, {300, 200}, {70, 1100}} {
		n, k := sh[0], sh[1]
		x := randF32(rng, M*k)
		wf := randF32(rng, n*k)
		wh := make([]uint16, n*k)
		asm.F32ToBF16(wh, wf)
		for _, s := range asm.BgemmKernels() {
			bgemmKernel = s
			for wi, w := range []backend.View{hv(wh), fv(wf)} {
				full := make([]float32, M*n)
				New(1).GemmBF16(false, true, M, n, k, 1, fv(x), k, w, k, 0, fv(full), n)
				for _, th := range []int{1, 2, 3} {
					c := New(th)
					for _, rows := range []int{1, 2, 3, 7, 13, 14, 15, 29, 64, 65, 113, 150} {
						r0 := rng.IntN(M - rows + 1)
						out := make([]float32, rows*n)
						c.GemmBF16(false, true, rows, n, k, 1, fv(x[r0*k:]), k, w, k, 0, fv(out), n)
						require.Equalf(t, full[r0*n:(r0+rows)*n], out, "%s n=%d k=%d weights %d: rows [%d, %d) on %d threads", s.Name, n, k, wi, r0, r0+rows, th)
					}
				}
			}
		}
	}
}

// TestBF16Buffers: WriteBF16/ReadBF16 copy bits; ToBF16 rounds as
// asm.F32ToBF16 does, at an offset, over more than one piece of the pool.
func TestBF16Buffers(t *testing.T) {
	c := New(3)
	rng := rand.New(rand.NewPCG(29, 30))
	n := 3*elemGrain + 5
	src := randF32(rng, n)
	want := make([]uint16, n)
	asm.F32ToBF16(want, src)
	buf := c.AllocBF16(n + 7)
	require.Equal(t, n+7, buf.Len())
	c.ToBF16(backend.Whole(buf).At(7), fv(src), n)
	got := make([]uint16, n)
	require.NoError(t, c.ReadBF16(got, backend.Whole(buf).At(7)))
	require.Equal(t, want, got)
	c.WriteBF16(backend.Whole(buf), []uint16{1, 2, 3})
	head := make([]uint16, 4)
	require.NoError(t, c.ReadBF16(head, backend.Whole(buf)))
	require.Equal(t, []uint16{1, 2, 3, 0}, head)
	c.Free(buf)
	require.True(t, c.Supports(backend.OpGemmBF16) && c.Supports(backend.OpToBF16))
	_, ok := backend.AsBF16(c)
	require.True(t, ok)
}
