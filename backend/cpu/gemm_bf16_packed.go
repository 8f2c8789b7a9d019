package cpu

import (
	"fmt"

	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
)

// PackedBF16Buffer is an n x k weight W held as the BF16 kernel's packed B
// operand of x W^T (backend.PackedBF16): for each K block of gemmKC (the
// blocks every GemmBF16 path sums in), the words PackB writes for all n
// columns, sliver after sliver. A product then reads W as it is, once, with
// none of the per-call transpose into pairs of k that dominates a decode
// step's GemmBF16 (docs/PERFORMANCE-decode.md). It is tied to the kernel
// that packed it.
type PackedBF16Buffer struct {
	n, k   int
	kernel *asm.BgemmKernel
	// blockWords is the size of one full K block: n rounded up to the
	// kernel's NR columns, times Pairs(gemmKC) words.
	blockWords int
	data       []uint32
}

// Len implements backend.Buffer: the n*k elements of W.
func (b *PackedBF16Buffer) Len() int { return b.n * b.k }

// block returns the packed K block that starts at row p0 of B (column p0
// of W): column j of it starts at word j*Pairs(kb).
func (b *PackedBF16Buffer) block(p0 int) []uint32 {
	return b.data[p0/gemmKC*b.blockWords:]
}

var _ backend.PackedBF16 = (*CPU)(nil)

// AllocPackedBF16 implements backend.PackedBF16.
func (c *CPU) AllocPackedBF16(n, k int) backend.Buffer {
	if n < 0 || k < 0 {
		panic(fmt.Sprintf("cpu: AllocPackedBF16(%d, %d)", n, k))
	}
	s := bgemmKernel
	bw := s.PackedBSize(gemmKC, n)
	words := 0
	for p0 := 0; p0 < k; p0 += gemmKC {
		words += s.PackedBSize(min(gemmKC, k-p0), n)
	}
	return &PackedBF16Buffer{n: n, k: k, kernel: s, blockWords: bw, data: make([]uint32, words)}
}

// PackBF16 implements backend.PackedBF16: the words GemmBF16 would pack for
// B = W^T, K block by K block, in pieces of slivers over the threads (each
// sliver is packed on its own, so any split gives the same words).
func (c *CPU) PackBF16(dst backend.Buffer, w backend.View, ldw int) {
	p := packedBF16(dst)
	W := bf16View(w, gemmExtent("W", false, p.n, p.k, ldw))
	s, nr := p.kernel, p.kernel.NR
	slivers := gemmCeilDiv(p.n, nr)
	for p0 := 0; p0 < p.k; p0 += gemmKC {
		kb := min(gemmKC, p.k-p0)
		kq, blk := asm.Pairs(kb), p.block(p0)
		c.pool.chunks(slivers, 1, func(lo, hi int) {
			for g := lo; g < hi; g++ {
				j0 := g * nr
				W.packB(s, blk[j0*kq:], j0*ldw+p0, ldw, true, kb, min(nr, p.n-j0))
			}
		})
	}
}

// GemmBF16Packed implements backend.PackedBF16: GemmBF16's paths (the
// small-m one up to gemmBF16SmallMaxM rows, else the blocked one) with B's
// packing replaced by slices of w, so every element gets the bits
// GemmBF16(false, true, ...) gives it with the unpacked W.
func (c *CPU) GemmBF16Packed(m int, alpha float32, a backend.View, lda int, w backend.Buffer, beta float32, cv backend.View, ldc int) {
	p := packedBF16(w)
	if p.kernel != bgemmKernel {
		panic(fmt.Sprintf("cpu: GemmBF16Packed: weight packed for kernel %s, GEMM runs %s", p.kernel.Name, bgemmKernel.Name))
	}
	A := bf16View(a, gemmExtent("A", false, m, p.k, lda))
	C := slice(cv, gemmExtent("C", false, m, p.n, ldc))
	gemmBF16(c.pool, p.kernel, false, true, m, p.n, p.k, alpha, A, lda, bf16Operand{}, p.k, p, beta, C, ldc)
}

// packedBF16 returns b as a packed weight, panicking on any other buffer
// (a programmer error, as a float32 buffer passed to a bf16 op is).
func packedBF16(b backend.Buffer) *PackedBF16Buffer {
	p, ok := b.(*PackedBF16Buffer)
	if !ok {
		panic(fmt.Sprintf("cpu: a packed bf16 op got a %T, not a packed bf16 buffer", b))
	}
	return p
}
