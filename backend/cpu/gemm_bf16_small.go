package cpu

import "github.com/goarpo/arpo/asm"

// gemmBF16SmallMaxM is the most rows of C the small-m BF16 path takes. At
// these sizes the blocked path's cost is packing all of B into a buffer
// larger than L2 and reading it back, and its 14-row tile multiplies a lone
// row by 13 rows of zeros.
const gemmBF16SmallMaxM = 16

// bf16WorkRatio is how many of this path's multiply-adds cost about one of
// the float32 ones poolMinWork counts: VDPBF16PS does 32 a lane-wide
// instruction where VFMADD231PS does 16, and a sliver of B is packed into
// L1 or read packed already. Counted as float32 ones, a lone row of a small
// model was split into pieces of a fraction of a microsecond: config b's
// bf16 decode at batch 1 ran 1,078-1,169 tokens/s on two threads against
// 1,521-1,553 on one; counted this way, 1,439-1,499 (one: 1,518-1,572),
// with batch 16 and the qwen2.5-0.5b shape unchanged within noise
// (docs/PERFORMANCE-decode.md).
const bf16WorkRatio = 8

// bgemmSmallScratch holds the packed A of one small-m call.
type bgemmSmallScratch struct{ a []uint32 }

// bgemmSliver holds one packed B sliver and the edge tile of one piece.
type bgemmSliver struct {
	b    []uint32
	tile []float32
}

var (
	bgemmSmallFree  scratchList[bgemmSmallScratch]
	bgemmSliverFree scratchList[bgemmSliver]
)

// gemmBF16Small is the small-m path of GemmBF16 (decode steps: one row per
// sequence). It packs A once, then splits C's columns into pieces; a piece
// packs one NR-column sliver of B for one K block at a time into a buffer
// that stays in L1, and runs the short sibling of s for m rows (asm.BgemmSmall)
// over it for every row tile, so B is read from memory once and never
// written back.
//
// Every element of C sees exactly what the blocked path gives it: the same
// K blocks (gemmKC) in the same order, each summed by a kernel that adds
// the same products in the same order, stored with beta for the first
// block and 1 for the others, full tiles stored by the kernel and partial
// ones through a scratch tile as gemmBF16Task does. So the result of a row
// depends neither on the path nor on m (for beta 0 or 1, as for the
// blocked path's own full and partial tiles), and a batch-invariant caller
// may mix the paths. packA(dst, p0, kb) packs op(A)'s m x kb block at
// column p0 with s's small sibling; sliverB(scratch, j0, p0, kb, cols)
// returns op(B)'s kb x cols block at (p0, j0) packed: into scratch, or, for
// a weight packed ahead of time (GemmBF16Packed), a slice of that.
func gemmBF16Small(pl *pool, s *asm.BgemmKernel, m, n, k int, alpha float32,
	packA func(t *asm.BgemmKernel, dst []uint32, p0, kb int), sliverB func(t *asm.BgemmKernel, scratch []uint32, j0, p0, kb, cols int) []uint32,
	beta float32, C []float32, ldc int) {
	t := asm.BgemmSmall(s, m)
	mr, nr := t.MR, t.NR
	blocks := gemmCeilDiv(k, gemmKC)
	aBlock := t.PackedASize(m, gemmKC) // words of a full K block of A
	aWords := t.PackedASize(mr, gemmKC) / (mr * asm.Pairs(gemmKC))

	sc := bgemmSmallFree.get()
	defer bgemmSmallFree.put(sc)
	sc.a = gemmGrow(sc.a, blocks*aBlock)
	for b := 0; b < blocks; b++ {
		p0 := b * gemmKC
		packA(t, sc.a[b*aBlock:], p0, min(gemmKC, k-p0))
	}
	pa := sc.a

	// Pieces of whole slivers, wide enough to be worth a hand-off (about
	// poolMinWork multiply-adds) and at most gemmNT columns. They depend on
	// the shape only; any split gives the same bits anyway.
	width := gemmCeilDiv(gemmCeilDiv(poolMinWork*bf16WorkRatio, m*k), nr) * nr
	width = min(max(width, nr), max(gemmNT/nr, 1)*nr)
	pl.runWork(gemmCeilDiv(n, width), m*n*k/bf16WorkRatio, func(piece int) {
		sl := bgemmSliverFree.get()
		defer bgemmSliverFree.put(sl)
		sl.b = gemmGrow(sl.b, t.PackedBSize(gemmKC, nr))
		sl.tile = gemmGrow(sl.tile, mr*nr)
		lo, hi := piece*width, min(n, (piece+1)*width)
		for j0 := lo; j0 < hi; j0 += nr {
			cols := min(nr, hi-j0)
			for b := 0; b < blocks; b++ {
				p0 := b * gemmKC
				kb := min(gemmKC, k-p0)
				bt := beta
				if b > 0 {
					bt = 1
				}
				pb := sliverB(t, sl.b, j0, p0, kb, cols)
				kq := asm.Pairs(kb)
				gemmBF16Task(t, kq, aWords*kq, m, cols, alpha, pa[b*aBlock:], pb, bt, C[j0:], ldc, sl.tile)
			}
		}
	})
}
