package asm

import "sync"

// Packing from float32 sources: the BF16 GEMM's operands may be float32
// (activations, f32 master weights in mixed-precision training), rounded to
// bf16 (F32ToBF16) while they are packed, so no bf16 copy of a whole operand
// is ever made. Each piece of a block (up to packF32Tmp elements) is
// converted into a stack buffer in the source's own orientation, then packed
// by packPairs exactly as a bf16 source would be: the packed words are the
// bits PackA/PackB give for F32ToBF16 of the source.

// packF32Tmp is the size of the conversion buffer (32 KiB of bf16): a piece
// stays in L1 between its conversion and its packing.
const packF32Tmp = 16384

// packF32Bufs holds conversion buffers: a variable on the stack would be
// zeroed on every call (32 KiB, most of it unused by a small piece; it cost
// a fifth of packing's time), and every element a piece reads is written
// by its conversion first.
var packF32Bufs = sync.Pool{New: func() any { return new([packF32Tmp]uint16) }}

// PackAF32 is PackA for a float32 source, each element rounded to bf16
// (BF16FromF32) as it is packed.
func (s *BgemmKernel) PackAF32(dst []uint32, a []float32, lda int, trans bool, rows, k int) {
	packPairsF32(dst, a, lda, !trans, rows, k, s.MR, s.wideA)
}

// PackBF32 is PackB for a float32 source, each element rounded to bf16 as
// it is packed.
func (s *BgemmKernel) PackBF32(dst []uint32, b []float32, ldb int, trans bool, k, cols int) {
	packPairsF32(dst, b, ldb, trans, cols, k, s.NR, false)
}

// packPairsF32 is packPairs for a float32 source. The w x k block is taken
// in groups of whole slivers (at most packF32Tmp/64 columns, rounded to
// slivers) and, within a group, in even runs of k that fit the buffer; each
// piece is converted with F32ToBF16 (one call per contiguous run of the
// source: a row of k when rowMajor, else a row of the group's columns) and
// each of its slivers packed into its place: pair q of sliver t lives at
// dst[(t*kq + q)*r*per], so a run of k starting at an even p0 is a
// contiguous range of the sliver.
func packPairsF32(dst []uint32, src []float32, ld int, rowMajor bool, w, k, r int, wide bool) {
	if w <= 0 || k <= 0 {
		return
	}
	kq := Pairs(k)
	per := 1
	if wide {
		per = 2
	}
	if need := ceilDiv(w, r) * r * kq * per; len(dst) < need {
		panic("asm: bf16 pack: dst too short")
	}
	if !rowMajor && !wide && r <= 32 && bf16PackColsF32 != nil {
		packColsF32(dst, src, ld, w, k, r)
		return
	}
	tp := packF32Bufs.Get().(*[packF32Tmp]uint16)
	defer packF32Bufs.Put(tp)
	tmp := tp[:]
	group := max(1, packF32Tmp/64/r) * r // columns per group, whole slivers
	for g0 := 0; g0 < w; g0 += group {
		h := min(group, w-g0) // columns of this group
		hs := ceilDiv(h, r) * r
		// Even run of k per piece; the buffer holds hs x run.
		run := max(2, (packF32Tmp/hs)&^1)
		for p0 := 0; p0 < k; p0 += run {
			kc := min(run, k-p0)
			var ldt int
			if rowMajor {
				// tmp[i*ldt+p] = x(g0+i, p0+p); an even ldt keeps the
				// pairs aligned words for packPairs' register transpose.
				ldt = kc + kc&1
				for i := 0; i < h; i++ {
					o := (g0+i)*ld + p0
					F32ToBF16(tmp[i*ldt:i*ldt+kc], src[o:o+kc])
				}
			} else {
				// tmp[p*ldt+i] = x(g0+i, p0+p).
				ldt = h
				for p := 0; p < kc; p++ {
					o := (p0+p)*ld + g0
					F32ToBF16(tmp[p*ldt:p*ldt+h], src[o:o+h])
				}
			}
			for t := 0; t < h; t += r {
				sl := (g0 + t) / r // sliver index in the whole block
				out := dst[(sl*kq+p0/2)*r*per:]
				off := t * ldt
				if !rowMajor {
					off = t
				}
				packPairs(out, tmp[off:], ldt, rowMajor, min(r, h-t), kc, r, wide)
			}
		}
	}
}

// bf16PackColsF32, when set, is the assembly of packColsF32's whole pairs
// (bf16_gen.go's genPackColsF32).
var bf16PackColsF32 func(dst *uint32, src *float32, ld, kq int, load0, load1, store0, store1 uint16)

// packColsF32 is packPairsF32's interleave case (x(i, p) = src[p*ld+i],
// bf16 words) in assembly, for slivers of at most 32 columns: each pair of
// source rows is rounded and merged straight into the packed words, no
// conversion buffer. An odd k's last row pairs with zeros in Go.
func packColsF32(dst []uint32, src []float32, ld, w, k, r int) {
	kq, kf := Pairs(k), k/2
	mask := func(n int) uint16 { return uint16(1<<min(max(n, 0), 16) - 1) }
	for s0 := 0; s0 < w; s0 += r {
		h := min(r, w-s0)
		out := dst[s0*kq : (s0+r)*kq]
		if kf > 0 {
			_ = src[(2*kf-1)*ld+s0+h-1] // the extent the assembly reads
			bf16PackColsF32(&out[0], &src[s0], ld, kf, mask(h), mask(h-16), mask(r), mask(r-16))
		}
		if kf < kq { // odd k: the last row, its pair's high half zero
			row := out[kf*r : kf*r+r]
			last := src[(k-1)*ld+s0 : (k-1)*ld+s0+h]
			for i := range row {
				row[i] = 0
				if i < h {
					row[i] = uint32(BF16FromF32(last[i]))
				}
			}
		}
	}
}
