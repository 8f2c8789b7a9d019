package cpu

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
)

// BenchmarkGemm reports GFLOP/s of C = A*B on the shapes of cmd/bench gemm
// (which prints the same as JSON lines), at 1 and 2 threads.
func BenchmarkGemm(b *testing.B) {
	shapes := [][3]int{{512, 512, 512}, {1024, 1024, 1024}, {2048, 1024, 256}, {2048, 256, 1024}, {2048, 256, 256}, {1, 2048, 2048}}
	for _, threads := range []int{1, 2} {
		c := New(threads)
		for _, sh := range shapes {
			m, n, k := sh[0], sh[1], sh[2]
			b.Run(fmt.Sprintf("%dx%dx%d/threads=%d", m, n, k, threads), func(b *testing.B) {
				rng := rand.New(rand.NewPCG(1, 2))
				fill := func(n int) backend.View {
					v := backend.Whole(c.Alloc(n))
					for i, x := 0, Slice(v, n); i < n; i++ {
						x[i] = rng.Float32()
					}
					return v
				}
				a, bb, cv := fill(m*k), fill(k*n), fill(m*n)
				for b.Loop() {
					c.Gemm(false, false, m, n, k, 1, a, k, bb, n, 0, cv, n)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkGemmKernels compares the micro-kernel variants through the whole
// single-thread driver, to re-check the choice of asm.Sgemm() on a machine.
func BenchmarkGemmKernels(b *testing.B) {
	defer func(k *asm.SgemmKernel) { gemmKernel = k }(gemmKernel)
	c := New(1)
	for _, sh := range [][3]int{{512, 512, 512}, {2048, 256, 1024}} {
		m, n, k := sh[0], sh[1], sh[2]
		rng := rand.New(rand.NewPCG(1, 2))
		fill := func(n int) backend.View {
			v := backend.Whole(c.Alloc(n))
			for i, x := 0, Slice(v, n); i < n; i++ {
				x[i] = rng.Float32()
			}
			return v
		}
		a, bb, cv := fill(m*k), fill(k*n), fill(m*n)
		for _, s := range asm.SgemmKernels() {
			if s.MR*s.NR < 64 {
				continue // the generic kernel would dominate the run time
			}
			gemmKernel = s
			b.Run(fmt.Sprintf("%dx%dx%d/%s", m, n, k, s.Name), func(b *testing.B) {
				for b.Loop() {
					c.Gemm(false, false, m, n, k, 1, a, k, bb, n, 0, cv, n)
				}
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkGemmBF16Operands: a linear layer's forward (x W^T, 2048 x 1024
// x 256) with bf16 operands and with float32 ones rounded while packing.
func BenchmarkGemmBF16Operands(b *testing.B) {
	const m, n, k = 2048, 1024, 256
	c := New(1)
	rng := rand.New(rand.NewPCG(1, 2))
	xf, wf := randF32(rng, m*k), randF32(rng, n*k)
	xh, wh := c.AllocBF16(m*k), c.AllocBF16(n*k)
	c.ToBF16(backend.Whole(xh), fv(xf), m*k)
	c.ToBF16(backend.Whole(wh), fv(wf), n*k)
	out := c.Alloc(m * n)
	for _, tc := range []struct {
		name string
		x, w backend.View
	}{{"bf16", backend.Whole(xh), backend.Whole(wh)}, {"f32", fv(xf), fv(wf)}} {
		b.Run(tc.name, func(b *testing.B) {
			for b.Loop() {
				c.GemmBF16(false, true, m, n, k, 1, tc.x, k, tc.w, k, 0, backend.Whole(out), n)
			}
			b.ReportMetric(2*m*n*k*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
