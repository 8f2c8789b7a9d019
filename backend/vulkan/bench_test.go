//go:build vulkan && cgo

package vulkan

import (
	"fmt"
	"math/rand/v2"
	"testing"

	"github.com/goarpo/arpo/backend"
)

// BenchmarkGemm measures C = A*B^T (the layout of a linear layer's forward)
// for square sizes, in GFLOP/s including one submission per iteration.
func BenchmarkGemm(bm *testing.B) {
	for _, n := range []int{256, 1024, 2048} {
		bm.Run(fmt.Sprint(n), func(bm *testing.B) {
			b, err := Open(0)
			if err != nil {
				bm.Skipf("vulkan backend unavailable: %v", err)
			}
			defer b.Close()
			rng := rand.New(rand.NewPCG(1, 1))
			a, w, c := b.Alloc(n*n), b.Alloc(n*n), b.Alloc(n*n)
			b.Write(backend.Whole(a), randSlice(rng, n*n))
			b.Write(backend.Whole(w), randSlice(rng, n*n))
			run := func() {
				b.Gemm(false, true, n, n, n, 1, backend.Whole(a), n, backend.Whole(w), n, 0, backend.Whole(c), n)
				if err := b.Sync(); err != nil {
					bm.Fatal(err)
				}
			}
			run() // compiles the pipeline
			bm.ResetTimer()
			for range bm.N {
				run()
			}
			bm.ReportMetric(2*float64(n)*float64(n)*float64(n)*float64(bm.N)/bm.Elapsed().Seconds()/1e9, "GFLOP/s")
		})
	}
}
