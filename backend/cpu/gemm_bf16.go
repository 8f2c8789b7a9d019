package cpu

import (
	"fmt"

	"github.com/goarpo/arpo/asm"
)

// bgemmKernel is the BF16 micro-kernel GemmBF16 uses; tests swap it to
// check every variant through the whole driver.
var bgemmKernel = asm.Bgemm()

// GemmBF16 is Gemm with bf16 operands (asm.F32ToBF16's encoding) and a
// float32 C: C = alpha*op(A)*op(B) + beta*C with op(A) m x k, op(B) k x n,
// C m x n, all row-major; transA means A is stored k x m, transB that B is
// stored n x k (a linear layer's weights). Products are summed in float32.
//
// It takes host slices, not backend views: the backend interface has no
// bf16 buffers yet. Like Gemm it gives the same bits for any thread count
// (fixed blocking, work split over C only). Bad sizes, leading dimensions
// or slices too short for their operands panic.
//
// Up to gemmBF16SmallMaxM rows take the small-m path (gemmBF16Small),
// which gives every element the blocked path's bits.
func (c *CPU) GemmBF16(transA, transB bool, m, n, k int, alpha float32, A []uint16, lda int, B []uint16, ldb int, beta float32, C []float32, ldc int) {
	gemmBF16Check("A", len(A), gemmExtent("A", transA, m, k, lda))
	gemmBF16Check("B", len(B), gemmExtent("B", transB, k, n, ldb))
	gemmBF16Check("C", len(C), gemmExtent("C", false, m, n, ldc))
	gemmBF16(c.pool, bgemmKernel, transA, transB, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
}

func gemmBF16Check(name string, have, want int) {
	if have < want {
		panic(fmt.Sprintf("cpu: GemmBF16: %s has %d elements, its shape needs %d", name, have, want))
	}
}

func gemmBF16(p *pool, s *asm.BgemmKernel, ta, tb bool, m, n, k int, alpha float32, A []uint16, lda int, B []uint16, ldb int, beta float32, C []float32, ldc int) {
	switch {
	case m == 0 || n == 0:
	case k == 0 || alpha == 0:
		for i := 0; i < m; i++ {
			gemmScale(C[i*ldc:i*ldc+n], beta)
		}
	case m <= gemmBF16SmallMaxM:
		gemmBF16Small(p, s, m, n, k, alpha, func(t *asm.BgemmKernel, dst []uint32, p0, kb int) {
			off := p0
			if ta {
				off = p0 * lda
			}
			t.PackA(dst, A[off:], lda, ta, m, kb)
		}, func(t *asm.BgemmKernel, dst []uint32, j0, p0, kb, cols int) {
			off := p0*ldb + j0
			if tb {
				off = j0*ldb + p0
			}
			t.PackB(dst, B[off:], ldb, tb, kb, cols)
		}, beta, C, ldc)
	default:
		gemmBF16Blocked(p, s, ta, tb, m, n, k, alpha, A, lda, B, ldb, beta, C, ldc)
	}
}

// bgemmScratch holds the pack buffers of one GemmBF16 call; kept for the
// next calls as gemmScratchFree keeps SGEMM's (scratchList).
type bgemmScratch struct {
	a, b  []uint32
	tiles []float32
}

var bgemmScratchFree scratchList[bgemmScratch]

// gemmBF16Blocked is gemmBlocked's loop nest (same block sizes, task
// shapes and order) over the BF16 kernel. gemmKC is even, so every K block
// but the last starts on a pair of k; an odd last block is padded with a
// zero by packing.
func gemmBF16Blocked(pl *pool, s *asm.BgemmKernel, ta, tb bool, m, n, k int, alpha float32, A []uint16, lda int, B []uint16, ldb int, beta float32, C []float32, ldc int) {
	mr, nr := s.MR, s.NR
	mt, nt := gemmTaskShape(min(m, gemmMB), min(n, gemmNC), mr, nr)
	nc := min(n, gemmNC)
	mb := min(m, gemmMB)
	kc := min(k, gemmKC)

	sc := bgemmScratchFree.get()
	defer bgemmScratchFree.put(sc)
	sc.a = gemmGrow(sc.a, s.PackedASize(mb, kc))
	sc.b = gemmGrow(sc.b, s.PackedBSize(kc, nc))
	sc.tiles = gemmGrow(sc.tiles, gemmCeilDiv(mb, mt)*gemmCeilDiv(nc, nt)*mr*nr)
	pa, pb, tiles := sc.a, sc.b, sc.tiles

	for jc := 0; jc < n; jc += gemmNC {
		nb := min(gemmNC, n-jc)
		for pc := 0; pc < k; pc += gemmKC {
			kb := min(gemmKC, k-pc)
			kq := asm.Pairs(kb)
			bt := beta
			if pc > 0 {
				bt = 1
			}
			// Packed slivers are r entries by kq pairs; A's entries may be
			// two words (PackedASize says how many in all).
			aWords := s.PackedASize(mr, kb) / mr // words per row of a sliver
			packB := func(g int) {
				j0 := g * 2 * nr
				off := pc*ldb + jc + j0
				if tb {
					off = (jc+j0)*ldb + pc
				}
				s.PackB(pb[j0*kq:], B[off:], ldb, tb, kb, min(2*nr, nb-j0))
			}
			nbPieces := gemmCeilDiv(nb, 2*nr)
			for ic := 0; ic < m; ic += gemmMB {
				mbb := min(gemmMB, m-ic)
				packA := func(g int) {
					i0 := g * mt
					off := (ic+i0)*lda + pc
					if ta {
						off = pc*lda + ic + i0
					}
					s.PackA(pa[i0*aWords:], A[off:], lda, ta, min(mt, mbb-i0), kb)
				}
				naPieces := gemmCeilDiv(mbb, mt)
				if ic == 0 {
					pl.run(nbPieces+naPieces, func(g int) {
						if g < nbPieces {
							packB(g)
						} else {
							packA(g - nbPieces)
						}
					})
				} else {
					pl.run(naPieces, packA)
				}
				tm, tn := gemmCeilDiv(mbb, mt), gemmCeilDiv(nb, nt)
				pl.run(tm*tn, func(t int) {
					i0, j0 := (t%tm)*mt, (t/tm)*nt
					tile := tiles[t*mr*nr : (t+1)*mr*nr]
					gemmBF16Task(s, kq, aWords, min(mt, mbb-i0), min(nt, nb-j0), alpha, pa[i0*aWords:], pb[j0*kq:], bt, C[(ic+i0)*ldc+jc+j0:], ldc, tile)
				})
			}
		}
	}
}

// gemmBF16Task is gemmTask for the BF16 kernel: aWords and kq are the
// packed words per A row and B column of the block.
func gemmBF16Task(s *asm.BgemmKernel, kq, aWords, rows, cols int, alpha float32, pa, pb []uint32, beta float32, C []float32, ldc int, tile []float32) {
	mr, nr := s.MR, s.NR
	for i := 0; i < rows; i += mr {
		a := pa[i*aWords:]
		h := min(mr, rows-i)
		for j := 0; j < cols; j += nr {
			b := pb[j*kq:]
			w := min(nr, cols-j)
			if h == mr && w == nr {
				s.Kernel(kq, a, b, C[i*ldc+j:], ldc, alpha, beta)
				continue
			}
			s.Kernel(kq, a, b, tile, nr, 1, 0)
			for ii := 0; ii < h; ii++ {
				c := C[(i+ii)*ldc+j : (i+ii)*ldc+j+w]
				t := tile[ii*nr : ii*nr+w]
				for jj := range c {
					if beta == 0 {
						c[jj] = alpha * t[jj]
					} else {
						c[jj] = alpha*t[jj] + beta*c[jj]
					}
				}
			}
		}
	}
}
