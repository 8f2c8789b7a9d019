//go:build vulkan && cgo

package vulkan

import (
	"fmt"
	"math/rand/v2"
	"strings"
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

// BenchmarkAttention measures the attention forward (and forward plus
// backward) over a pack of two 256-token sequences (8 heads, 2 kv heads,
// head dim 64) with the per-row kernels and with the flash kernels.
func BenchmarkAttention(bm *testing.B) {
	for _, name := range []string{"per-row", "flash", "per-row-backward", "flash-backward"} {
		kernel, backward := strings.CutSuffix(name, "-backward")
		bm.Run(name, func(bm *testing.B) {
			b, err := Open(0)
			if err != nil {
				bm.Skipf("vulkan backend unavailable: %v", err)
			}
			defer b.Close()
			b.perRowAttention = kernel == "per-row"
			const T, heads, kvHeads, hd = 512, 8, 2, 64
			seqs := []backend.Seq{{Start: 0, Len: 256}, {Start: 256, Len: 256}}
			rng := rand.New(rand.NewPCG(1, 1))
			q, k, v := b.Alloc(T*heads*hd), b.Alloc(T*kvHeads*hd), b.Alloc(T*kvHeads*hd)
			o, l := b.Alloc(T*heads*hd), b.Alloc(T*heads)
			for _, x := range []backend.Buffer{q, k, v} {
				b.Write(backend.Whole(x), randSlice(rng, x.Len()))
			}
			dq, dk, dv := b.Alloc(T*heads*hd), b.Alloc(T*kvHeads*hd), b.Alloc(T*kvHeads*hd)
			run := func() {
				b.Attention(backend.Whole(o), backend.Whole(l), backend.Whole(q), backend.Whole(k), backend.Whole(v), seqs, heads, kvHeads, hd, 0.125)
				if backward {
					b.AttentionBackward(backend.Whole(dq), backend.Whole(dk), backend.Whole(dv), backend.Whole(o), backend.Whole(q), backend.Whole(k), backend.Whole(v),
						backend.Whole(o), backend.Whole(l), seqs, heads, kvHeads, hd, 0.125)
				}
				if err := b.Sync(); err != nil {
					bm.Fatal(err)
				}
			}
			run()
			bm.ResetTimer()
			for range bm.N {
				run()
			}
		})
	}
}

// BenchmarkPagedAttention measures one decode step's attention over a
// paged KV cache in float32 and in bf16 (PagedAttentionBF16): 16 sequences
// of 1024 positions in blocks of 16, 14 heads, 2 kv heads, head dim 64
// (Qwen2.5-0.5B's attention shape).
func BenchmarkPagedAttention(bm *testing.B) {
	for _, cache := range []string{"f32", "bf16"} {
		bm.Run(cache, func(bm *testing.B) {
			b, err := Open(0)
			if err != nil {
				bm.Skipf("vulkan backend unavailable: %v", err)
			}
			defer b.Close()
			const rows, ctx, blockSize, heads, kvHeads, hd = 16, 1024, 16, 14, 2, 64
			const cacheRows = rows * ctx
			rng := rand.New(rand.NewPCG(1, 1))
			seqs := make([]backend.PagedSeq, rows)
			perm := rng.Perm(cacheRows / blockSize)
			for i := range seqs {
				blocks := make([]int32, ctx/blockSize)
				for j := range blocks {
					blocks[j] = int32(perm[i*len(blocks)+j])
				}
				seqs[i] = backend.PagedSeq{Row: i, N: 1, Pos: ctx - 1, Blocks: blocks}
			}
			q, o := b.Alloc(rows*heads*hd), b.Alloc(rows*heads*hd)
			b.Write(backend.Whole(q), randSlice(rng, q.Len()))
			var k, v backend.Buffer
			for _, x := range []*backend.Buffer{&k, &v} {
				src := b.Alloc(cacheRows * kvHeads * hd)
				b.Write(backend.Whole(src), randSlice(rng, src.Len()))
				*x = src
				if cache == "bf16" {
					*x = b.AllocBF16(src.Len())
					b.ToBF16(backend.Whole(*x), backend.Whole(src), src.Len())
				}
			}
			run := func() {
				if cache == "bf16" {
					b.PagedAttentionBF16(backend.Whole(o), backend.Whole(q), backend.Whole(k), backend.Whole(v), seqs, blockSize, heads, kvHeads, hd, 0.125)
				} else {
					b.PagedAttention(backend.Whole(o), backend.Whole(q), backend.Whole(k), backend.Whole(v), seqs, blockSize, heads, kvHeads, hd, 0.125)
				}
				if err := b.Sync(); err != nil {
					bm.Fatal(err)
				}
			}
			run()
			bm.ResetTimer()
			for range bm.N {
				run()
			}
		})
	}
}
