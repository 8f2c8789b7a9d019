package asm

import (
	"fmt"
	"math"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/require"
)

func randSlice(rng *rand.Rand, n int) []float32 {
	x := make([]float32, n)
	for i := range x {
		x[i] = rng.Float32()*2 - 1
	}
	return x
}

// opAt returns op(X)[i][j] for X stored row-major with leading dimension ld.
func opAt(x []float32, ld int, trans bool, i, j int) float32 {
	if trans {
		return x[j*ld+i]
	}
	return x[i*ld+j]
}

func TestPackLayoutAndPadding(t *testing.T) {
	t.Run("asm", testPackLayoutAndPadding)
	// The Go loops pack where the CPU lacks AVX-512 (an AVX2-only machine
	// runs the 6x16 kernel on them): check them with every tile too.
	transposers, copiers := sgemmTransposers, sgemmCopiers // arrays: copies
	defer func() { sgemmTransposers, sgemmCopiers = transposers, copiers }()
	clear(sgemmTransposers[:])
	clear(sgemmCopiers[:])
	t.Run("go", testPackLayoutAndPadding)
}

func testPackLayoutAndPadding(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for _, s := range SgemmKernels() {
		for _, trans := range []bool{false, true} {
			for _, sz := range [][2]int{{1, 1}, {s.MR, 3}, {s.MR + 1, 5}, {2*s.MR - 1, 7}, {3 * s.NR, 2}, {s.NR + 3, 4},
				// k >= 16 takes the register-transpose path for full slivers.
				{s.MR, 16}, {2*s.MR + 1, 37}, {s.NR, 48}, {2*s.NR + 5, 33}} {
				w, k := sz[0], sz[1]
				name := fmt.Sprintf("%s/trans=%v/%dx%d", s.Name, trans, w, k)
				// A block: w rows x k; ld larger than the width.
				ld := max(w, k) + 3
				src := randSlice(rng, ld*max(w, k)+ld)
				dst := make([]float32, s.PackedASize(w, k)+1)
				for i := range dst {
					dst[i] = float32(math.NaN())
				}
				s.PackA(dst, src, ld, trans, w, k)
				for i := 0; i < ceilDiv(w, s.MR)*s.MR; i++ {
					for p := 0; p < k; p++ {
						got := dst[(i/s.MR)*s.MR*k+p*s.MR+i%s.MR]
						want := float32(0)
						if i < w {
							want = opAt(src, ld, trans, i, p)
						}
						require.Equal(t, want, got, "%s A(%d,%d)", name, i, p)
					}
				}
				require.True(t, math.IsNaN(float64(dst[len(dst)-1])), "%s: PackA wrote past its size", name)

				// B block: k x w.
				dst = make([]float32, s.PackedBSize(k, w)+1)
				for i := range dst {
					dst[i] = float32(math.NaN())
				}
				s.PackB(dst, src, ld, trans, k, w)
				for j := 0; j < ceilDiv(w, s.NR)*s.NR; j++ {
					for p := 0; p < k; p++ {
						got := dst[(j/s.NR)*s.NR*k+p*s.NR+j%s.NR]
						want := float32(0)
						if j < w {
							want = opAt(src, ld, trans, p, j)
						}
						require.Equal(t, want, got, "%s B(%d,%d)", name, p, j)
					}
				}
				require.True(t, math.IsNaN(float64(dst[len(dst)-1])), "%s: PackB wrote past its size", name)
			}
		}
	}
}

// TestSgemmKernelTile checks each variant's register tile against a scalar
// reference: alpha/beta cases, NaN in C with beta = 0, and guard cells
// around the tile that must stay untouched.
func TestSgemmKernelTile(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	for _, s := range SgemmKernels() {
		for _, k := range []int{1, 2, 3, 4, 5, 7, 8, 9, 16, 17, 63, 256} {
			for _, ab := range [][2]float32{{1, 0}, {-2, 0}, {1, 1}, {0.5, -1.5}} {
				alpha, beta := ab[0], ab[1]
				name := fmt.Sprintf("%s/k=%d/alpha=%v/beta=%v", s.Name, k, alpha, beta)
				a := randSlice(rng, s.MR*k)
				b := randSlice(rng, s.NR*k)
				ldc := s.NR + 5
				const guard = 7
				c := randSlice(rng, s.MR*ldc+2*guard)
				if beta == 0 {
					for i := range c {
						c[i] = float32(math.NaN())
					}
				}
				old := append([]float32(nil), c...)
				s.Kernel(k, a, b, c[guard:], ldc, alpha, beta)
				for idx, got := range c {
					i, j := (idx-guard)/ldc, (idx-guard)%ldc
					if idx < guard || i >= s.MR || j >= s.NR {
						if math.IsNaN(float64(old[idx])) {
							require.True(t, math.IsNaN(float64(got)), "%s: guard %d written", name, idx)
						} else {
							require.Equal(t, old[idx], got, "%s: guard %d written", name, idx)
						}
						continue
					}
					var sum, mag float32
					for p := 0; p < k; p++ {
						x, y := a[p*s.MR+i], b[p*s.NR+j]
						sum += x * y
						mag += abs32(x * y)
					}
					want := alpha * sum
					if beta != 0 {
						want += beta * old[idx]
						mag = abs32(alpha)*mag + abs32(beta*old[idx])
					}
					require.InDelta(t, want, got, float64(1e-5*mag+1e-30), "%s C(%d,%d)", name, i, j)
				}
			}
		}
	}
}

// gemmVia computes C = alpha*op(A)*op(B) + beta*C with one kernel variant,
// packing whole operands and going through a scratch tile at the edges: the
// smallest complete use of the packing + kernel contract.
func gemmVia(s *SgemmKernel, ta, tb bool, m, n, k int, alpha float32, a []float32, lda int, b []float32, ldb int, beta float32, c []float32, ldc int) {
	pa := make([]float32, s.PackedASize(m, k))
	pb := make([]float32, s.PackedBSize(k, n))
	s.PackA(pa, a, lda, ta, m, k)
	s.PackB(pb, b, ldb, tb, k, n)
	tile := make([]float32, s.MR*s.NR)
	for i := 0; i < m; i += s.MR {
		for j := 0; j < n; j += s.NR {
			ap, bp := pa[i*k:], pb[j*k:]
			if i+s.MR <= m && j+s.NR <= n {
				s.Kernel(k, ap, bp, c[i*ldc+j:], ldc, alpha, beta)
				continue
			}
			s.Kernel(k, ap, bp, tile, s.NR, 1, 0)
			for ii := i; ii < min(i+s.MR, m); ii++ {
				for jj := j; jj < min(j+s.NR, n); jj++ {
					v := alpha * tile[(ii-i)*s.NR+jj-j]
					if beta != 0 {
						v += beta * c[ii*ldc+jj]
					}
					c[ii*ldc+jj] = v
				}
			}
		}
	}
}

// TestSgemmVariantsAgainstGeneric runs every variant through packing and the
// kernel on odd shapes and all transpose cases, against the generic variant.
func TestSgemmVariantsAgainstGeneric(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 6))
	shapes := [][3]int{{1, 1, 1}, {3, 5, 7}, {14, 32, 16}, {15, 33, 17}, {29, 70, 31}, {6, 16, 300}, {50, 100, 2}}
	for _, s := range SgemmKernels() {
		for _, sh := range shapes {
			for tr := 0; tr < 4; tr++ {
				ta, tb := tr&1 != 0, tr&2 != 0
				m, n, k := sh[0], sh[1], sh[2]
				lda, ldb, ldc := k+2, n+1, n+3
				if ta {
					lda = m + 2
				}
				if tb {
					ldb = k + 1
				}
				a := randSlice(rng, lda*max(m, k))
				b := randSlice(rng, ldb*max(n, k))
				c0 := randSlice(rng, ldc*m)
				got, want := append([]float32(nil), c0...), append([]float32(nil), c0...)
				gemmVia(s, ta, tb, m, n, k, 1.5, a, lda, b, ldb, 0.5, got, ldc)
				gemmVia(sgemmGeneric, ta, tb, m, n, k, 1.5, a, lda, b, ldb, 0.5, want, ldc)
				for i := 0; i < m; i++ {
					for j := 0; j < ldc; j++ {
						if j >= n {
							require.Equal(t, c0[i*ldc+j], got[i*ldc+j], "%s: padding column written", s.Name)
							continue
						}
						var mag float32
						for p := 0; p < k; p++ {
							mag += abs32(opAt(a, lda, ta, i, p) * opAt(b, ldb, tb, p, j))
						}
						mag = 1.5*mag + 0.5*abs32(c0[i*ldc+j])
						require.InDelta(t, want[i*ldc+j], got[i*ldc+j], float64(1e-5*mag+1e-30),
							"%s ta=%v tb=%v %v C(%d,%d)", s.Name, ta, tb, sh, i, j)
					}
				}
			}
		}
	}
}

func TestSgemmKernelPanicsOnShortSlices(t *testing.T) {
	s := Sgemm()
	a := make([]float32, s.MR*4)
	b := make([]float32, s.NR*4)
	c := make([]float32, s.MR*s.NR)
	require.Panics(t, func() { s.Kernel(5, a, b, c, s.NR, 1, 0) })
	require.Panics(t, func() { s.Kernel(4, a, b, c[:len(c)-1], s.NR, 1, 0) })
	require.Panics(t, func() { s.Kernel(0, a, b, c, s.NR, 1, 0) })
	require.NotPanics(t, func() { s.Kernel(4, a, b, c, s.NR, 1, 0) })
}

func abs32(x float32) float32 { return math.Float32frombits(math.Float32bits(x) &^ (1 << 31)) }

// BenchmarkSgemmKernel measures each variant on an L1/L2-resident sliver
// pair: the ceiling the blocked GEMM can reach.
func BenchmarkSgemmKernel(b *testing.B) {
	rng := rand.New(rand.NewPCG(7, 8))
	const k = 256
	for _, s := range SgemmKernels() {
		b.Run(s.Name, func(b *testing.B) {
			// Several A slivers against one B sliver, as in the blocked loop.
			const slivers = 8
			pa := randSlice(rng, slivers*s.MR*k)
			pb := randSlice(rng, s.NR*k)
			c := randSlice(rng, slivers*s.MR*s.NR)
			for b.Loop() {
				for i := 0; i < slivers; i++ {
					s.Kernel(k, pa[i*s.MR*k:], pb, c[i*s.MR*s.NR:], s.NR, 1, 1)
				}
			}
			flops := 2 * float64(slivers*s.MR*s.NR*k) * float64(b.N)
			b.ReportMetric(flops/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}

func BenchmarkPack(b *testing.B) {
	rng := rand.New(rand.NewPCG(9, 10))
	s := Sgemm()
	const rows, k, ld = 256, 256, 1024
	src := randSlice(rng, ld*ld)
	dst := make([]float32, s.PackedASize(rows, k)+s.PackedBSize(k, rows))
	for _, c := range []struct {
		name  string
		trans bool
		fn    func(dst, a []float32, lda int, trans bool, rows, k int)
	}{{"A", false, s.PackA}, {"AT", true, s.PackA}, {"B", false, s.PackB}, {"BT", true, s.PackB}} {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				c.fn(dst, src, ld, c.trans, rows, k)
			}
			b.ReportMetric(float64(rows*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "Gelem/s")
		})
	}
}
