package cpu

import (
	"fmt"

	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
)

// bgemmKernel is the BF16 micro-kernel GemmBF16 uses; tests swap it to
// check every variant through the whole driver.
var bgemmKernel = asm.Bgemm()

// BF16Buffer is host memory of bf16 elements (asm.F32ToBF16's encoding):
// the CPU backend's buffers of backend.BF16.
type BF16Buffer struct {
	data []uint16
}

// Len implements backend.Buffer: the number of bf16 elements.
func (b *BF16Buffer) Len() int { return len(b.data) }

// Data returns the buffer's storage.
func (b *BF16Buffer) Data() []uint16 { return b.data }

var _ backend.BF16 = (*CPU)(nil)

// AllocBF16 implements backend.BF16.
func (c *CPU) AllocBF16(n int) backend.Buffer { return &BF16Buffer{data: make([]uint16, n)} }

// WriteBF16 implements backend.BF16.
func (c *CPU) WriteBF16(dst backend.View, src []uint16) { copy(sliceBF16(dst, len(src)), src) }

// ReadBF16 implements backend.BF16.
func (c *CPU) ReadBF16(dst []uint16, src backend.View) error {
	copy(dst, sliceBF16(src, len(dst)))
	return nil
}

// ToBF16 implements backend.BF16: n elements rounded by asm.F32ToBF16, in
// pieces over the threads (each element on its own, so any split gives the
// same bits).
func (c *CPU) ToBF16(dst, src backend.View, n int) {
	d, s := sliceBF16(dst, n), slice(src, n)
	c.pool.chunks(n, elemGrain, func(lo, hi int) { asm.F32ToBF16(d[lo:hi], s[lo:hi]) })
}

// sliceBF16 returns n elements of a bf16 view.
func sliceBF16(v backend.View, n int) []uint16 {
	b, ok := v.Buf.(*BF16Buffer)
	if !ok {
		panic(fmt.Sprintf("cpu: a bf16 op got a %T, not a bf16 buffer", v.Buf))
	}
	return b.data[v.Off : v.Off+n : v.Off+n]
}

// bf16Operand is one operand of the BF16 GEMM: bf16 elements (h) or
// float32 ones (f), rounded to bf16 by packing.
type bf16Operand struct {
	h []uint16
	f []float32
}

// packA packs the rows x k block of op(A) that starts at element off
// (asm.BgemmKernel.PackA, or PackAF32 for float32 elements).
func (o bf16Operand) packA(s *asm.BgemmKernel, dst []uint32, off, ld int, trans bool, rows, k int) {
	if o.f != nil {
		s.PackAF32(dst, o.f[off:], ld, trans, rows, k)
		return
	}
	s.PackA(dst, o.h[off:], ld, trans, rows, k)
}

// packB packs the k x cols block of op(B) that starts at element off.
func (o bf16Operand) packB(s *asm.BgemmKernel, dst []uint32, off, ld int, trans bool, k, cols int) {
	if o.f != nil {
		s.PackBF32(dst, o.f[off:], ld, trans, k, cols)
		return
	}
	s.PackB(dst, o.h[off:], ld, trans, k, cols)
}

// bf16View returns the n elements of v, a bf16 or float32 CPU buffer, as
// an operand.
func bf16View(v backend.View, n int) bf16Operand {
	if v.Off < 0 || v.Off+n > v.Buf.Len() {
		panic(fmt.Sprintf("cpu: GemmBF16: %d elements at %d of a buffer of %d", n, v.Off, v.Buf.Len()))
	}
	switch b := v.Buf.(type) {
	case *BF16Buffer:
		return bf16Operand{h: b.data[v.Off : v.Off+n : v.Off+n]}
	case *Buffer:
		return bf16Operand{f: b.data[v.Off : v.Off+n : v.Off+n]}
	}
	panic(fmt.Sprintf("cpu: GemmBF16: operand is a %T", v.Buf))
}

// GemmBF16 implements backend.BF16: Gemm with bf16 products, each of A and
// B a bf16 or a float32 buffer (rounded to bf16 as it is packed), C
// float32, products summed in float32. Like Gemm it gives the same bits for
// any thread count (fixed blocking, work split over C only); and the sums
// for a row of C depend on neither m nor the other rows (in the blocked
// path each row is one row of a packed A sliver, zero rows padding a
// partial one; up to gemmBF16SmallMaxM rows take the small-m path, which
// gives every element the blocked path's bits), so it needs no
// batch-invariant pieces. Bad
// sizes, leading dimensions or operands past their buffers panic.
func (c *CPU) GemmBF16(transA, transB bool, m, n, k int, alpha float32, a backend.View, lda int, b backend.View, ldb int, beta float32, cv backend.View, ldc int) {
	A := bf16View(a, gemmExtent("A", transA, m, k, lda))
	B := bf16View(b, gemmExtent("B", transB, k, n, ldb))
	C := slice(cv, gemmExtent("C", false, m, n, ldc))
	gemmBF16(c.pool, bgemmKernel, transA, transB, m, n, k, alpha, A, lda, B, ldb, nil, beta, C, ldc)
}

// gemmBF16 is GemmBF16 on host slices; with pre (GemmBF16Packed: B = pre's
// W^T, ta false, tb true) B's packing is replaced by slices of pre.
func gemmBF16(p *pool, s *asm.BgemmKernel, ta, tb bool, m, n, k int, alpha float32, A bf16Operand, lda int, B bf16Operand, ldb int, pre *PackedBF16Buffer, beta float32, C []float32, ldc int) {
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
			A.packA(t, dst, off, lda, ta, m, kb)
		}, func(t *asm.BgemmKernel, dst []uint32, j0, p0, kb, cols int) []uint32 {
			if pre != nil {
				return pre.block(p0)[j0*asm.Pairs(kb):]
			}
			off := p0*ldb + j0
			if tb {
				off = j0*ldb + p0
			}
			B.packB(t, dst, off, ldb, tb, kb, cols)
			return dst
		}, beta, C, ldc)
	default:
		gemmBF16Blocked(p, s, ta, tb, m, n, k, alpha, A, lda, B, ldb, pre, beta, C, ldc)
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
// zero by packing. With pre (a weight packed ahead of time, B = pre's W^T)
// B is not packed: its blocks are slices of pre, the same words.
func gemmBF16Blocked(pl *pool, s *asm.BgemmKernel, ta, tb bool, m, n, k int, alpha float32, A bf16Operand, lda int, B bf16Operand, ldb int, pre *PackedBF16Buffer, beta float32, C []float32, ldc int) {
	mr, nr := s.MR, s.NR
	mt, nt := gemmTaskShape(min(m, gemmMB), min(n, gemmNC), mr, nr)
	nc := min(n, gemmNC)
	mb := min(m, gemmMB)
	kc := min(k, gemmKC)

	sc := bgemmScratchFree.get()
	defer bgemmScratchFree.put(sc)
	sc.a = gemmGrow(sc.a, s.PackedASize(mb, kc))
	if pre == nil {
		sc.b = gemmGrow(sc.b, s.PackedBSize(kc, nc))
	}
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
				B.packB(s, pb[j0*kq:], off, ldb, tb, kb, min(2*nr, nb-j0))
			}
			nbPieces := gemmCeilDiv(nb, 2*nr)
			if pre != nil {
				pb, nbPieces = pre.block(pc)[jc*kq:], 0
			}
			for ic := 0; ic < m; ic += gemmMB {
				mbb := min(gemmMB, m-ic)
				packA := func(g int) {
					i0 := g * mt
					off := (ic+i0)*lda + pc
					if ta {
						off = pc*lda + ic + i0
					}
					A.packA(s, pa[i0*aWords:], off, lda, ta, min(mt, mbb-i0), kb)
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
