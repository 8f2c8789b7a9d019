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

// BenchmarkGemmBF16Operands: a linear layer's three products (forward
// x W^T, input gradient dy W, weight gradient dy^T x; 2048 tokens, 256 in,
// 1024 out) with bf16 operands and with float32 ones rounded while packing.
func BenchmarkGemmBF16Operands(b *testing.B) {
	const T, in, out = 2048, 256, 1024
	c := New(1)
	rng := rand.New(rand.NewPCG(1, 2))
	buf := func(n int) (f, h backend.View) {
		x := randF32(rng, n)
		hb := c.AllocBF16(n)
		c.ToBF16(backend.Whole(hb), fv(x), n)
		return fv(x), backend.Whole(hb)
	}
	xf, xh := buf(T * in)
	wf, wh := buf(out * in)
	dyf, dyh := buf(T * out)
	y := backend.Whole(c.Alloc(T * max(in, out)))
	dw := backend.Whole(c.Alloc(in * out))
	type ops struct{ x, w, dy backend.View }
	for _, prod := range []string{"forward", "dx", "dw"} {
		for _, tc := range []struct {
			name string
			o    ops
		}{{"bf16", ops{xh, wh, dyh}}, {"f32", ops{xf, wf, dyf}}} {
			b.Run(prod+"/"+tc.name, func(b *testing.B) {
				o := tc.o
				for b.Loop() {
					switch prod {
					case "forward":
						c.GemmBF16(false, true, T, out, in, 1, o.x, in, o.w, in, 0, y, out)
					case "dx":
						c.GemmBF16(false, false, T, in, out, 1, o.dy, out, o.w, in, 0, y, in)
					case "dw":
						c.GemmBF16(true, false, out, in, T, 1, o.dy, out, o.x, in, 0, dw, in)
					}
				}
				b.ReportMetric(2*T*in*out*float64(b.N)/b.Elapsed().Seconds()/1e9, "GFLOP/s")
			})
		}
	}
}

// BenchmarkGemmBF16Decode: decode steps' products x W^T against bf16
// weights of qwen2.5-0.5b's MLP shape (4864 x 896), cycling through 8 of
// them (70 MB, past the caches, as a model's layers are), with W as it is
// (GemmBF16 packs it every call) and packed ahead of time
// (GemmBF16Packed). GB/s counts the weight bytes read.
func BenchmarkGemmBF16Decode(b *testing.B) {
	const n, k, weights = 4864, 896, 8
	c := New(1)
	rng := rand.New(rand.NewPCG(1, 2))
	plain := make([]backend.View, weights)
	packed := make([]backend.Buffer, weights)
	for i := range plain {
		w := c.AllocBF16(n * k)
		c.ToBF16(backend.Whole(w), fv(randF32(rng, n*k)), n*k)
		plain[i] = backend.Whole(w)
		packed[i] = c.AllocPackedBF16(n, k)
		c.PackBF16(packed[i], plain[i], k)
	}
	for _, m := range []int{1, 8, 16, 64} {
		x, y := fv(randF32(rng, m*k)), fv(make([]float32, m*n))
		for _, mode := range []string{"plain", "packed"} {
			b.Run(fmt.Sprintf("m=%d/%s", m, mode), func(b *testing.B) {
				i := 0
				for b.Loop() {
					if mode == "plain" {
						c.GemmBF16(false, true, m, n, k, 1, x, k, plain[i%weights], k, 0, y, n)
					} else {
						c.GemmBF16Packed(m, 1, x, k, packed[i%weights], 0, y, n)
					}
					i++
				}
				s := b.Elapsed().Seconds()
				b.ReportMetric(2*float64(m*n*k)*float64(b.N)/s/1e9, "GFLOP/s")
				b.ReportMetric(2*float64(n*k)*float64(b.N)/s/1e9, "GB/s")
			})
		}
	}
}
