package asm

import (
	"fmt"
	"math"
	"unsafe"
)

//go:generate go run bf16_gen.go

// bf16 ("brain float") values are stored as uint16: the high half of the
// float32 bits (sign, the 8-bit exponent, 7 fraction bits). Widening is
// exact; narrowing rounds.
//
// Narrowing follows VCVTNEPS2BF16, so that every variant gives the same
// bits: round to nearest, ties to even; NaN stays NaN (its high half with
// the quiet bit set, the sign kept); zeros and float32 denormals become
// zero of the same sign (the instruction treats denormal inputs as zero;
// they are below 1.2e-38, far beneath any weight or activation); values
// that round past the largest bf16 become infinity.

// BF16FromF32 rounds x to bf16 (see the rules above).
func BF16FromF32(x float32) uint16 {
	b := math.Float32bits(x)
	switch {
	case b&0x7f800000 == 0: // zero or denormal
		return uint16(b>>16) & 0x8000
	case b&0x7fffffff > 0x7f800000: // NaN
		return uint16(b>>16) | 0x40
	}
	return uint16((b + 0x7fff + (b>>16)&1) >> 16)
}

// F32FromBF16 widens a bf16 value to float32 (exact).
func F32FromBF16(h uint16) float32 { return math.Float32frombits(uint32(h) << 16) }

var (
	bf16FromF32Impl = bf16FromF32Generic
	bf16ToF32Impl   = bf16ToF32Generic
)

// F32ToBF16 sets dst[i] = BF16FromF32(src[i]) for i < len(src).
func F32ToBF16(dst []uint16, src []float32) {
	need(len(dst), len(src))
	bf16FromF32Impl(dst, src)
}

// BF16ToF32 sets dst[i] = F32FromBF16(src[i]) for i < len(src).
func BF16ToF32(dst []float32, src []uint16) {
	need(len(dst), len(src))
	bf16ToF32Impl(dst, src)
}

func bf16FromF32Generic(dst []uint16, src []float32) {
	dst = dst[:len(src)]
	for i, x := range src {
		dst[i] = BF16FromF32(x)
	}
}

func bf16ToF32Generic(dst []float32, src []uint16) {
	dst = dst[:len(src)]
	for i, h := range src {
		dst[i] = F32FromBF16(h)
	}
}

// BgemmKernel is one BF16 GEMM micro-kernel variant: C (float32) = alpha *
// A*B + beta*C for an MR x NR tile, A and B bf16, the products summed in
// float32. It has the same shape of API as SgemmKernel; the driver
// (backend/cpu's GemmBF16) blocks and threads it as it does SGEMM.
//
// Packed layouts (opaque words: a kernel's own PackA/PackB fill them), for
// a block of depth k, in kq = ceil(k/2) pairs of k (an odd k is padded with
// a zero):
//   - B: slivers of NR columns; sliver t holds, for each pair q, NR words:
//     column j's op(B)[2q][t*NR+j] in the low half, op(B)[2q+1][...] in the
//     high half (the operand layout of VDPBF16PS). The same for every
//     variant.
//   - A: slivers of MR rows; for each pair q, MR entries, row r's
//     op(A)[s*MR+r][2q] and [2q+1]: one word of two bf16 (VDPBF16PS and the
//     generic twin) or two float32 words, widened by packing (the AVX-512F
//     fallback: each A value is reused by every B sliver, so it is widened
//     once, and B on load).
//
// Rows and columns past the block are zero.
type BgemmKernel struct {
	// Name says the instruction set and tile, e.g. "avx512bf16-14x32".
	Name string
	// MR and NR are the rows and columns of the register tile.
	MR, NR int

	wideA bool // A packed as float32 pairs (two words per entry)
	fn    func(kq int, a, b *uint32, c *float32, ldc int, alpha, beta float32)
}

// Pairs returns ceil(k/2), the depth of a packed block in pairs of k.
func Pairs(k int) int { return (k + 1) / 2 }

func (s *BgemmKernel) aWords() int {
	if s.wideA {
		return 2
	}
	return 1
}

// Kernel computes one full MR x NR tile of C at c[0] (row stride ldc):
// C = alpha*A*B + beta*C, where a is a packed MR-row sliver and b a packed
// NR-column sliver, both kq = Pairs(k) pairs deep. beta == 0 ignores C's old
// contents (NaN included). kq >= 1.
func (s *BgemmKernel) Kernel(kq int, a, b []uint32, c []float32, ldc int, alpha, beta float32) {
	if kq < 1 || len(a) < kq*s.MR*s.aWords() || len(b) < kq*s.NR || ldc < s.NR || len(c) < (s.MR-1)*ldc+s.NR {
		panic(fmt.Sprintf("asm: %s kernel: kq=%d len(a)=%d len(b)=%d ldc=%d len(c)=%d", s.Name, kq, len(a), len(b), ldc, len(c)))
	}
	s.fn(kq, &a[0], &b[0], &c[0], ldc, alpha, beta)
}

// PackedASize is the number of words PackA needs for a rows x k block.
func (s *BgemmKernel) PackedASize(rows, k int) int {
	return ceilDiv(rows, s.MR) * s.MR * Pairs(k) * s.aWords()
}

// PackedBSize is the number of words PackB needs for a k x cols block.
func (s *BgemmKernel) PackedBSize(k, cols int) int { return ceilDiv(cols, s.NR) * s.NR * Pairs(k) }

// PackA packs the rows x k block of op(A) whose element (0, 0) is a[0].
// Without trans, element (i, p) is a[i*lda+p]; with trans (A stored k x m)
// it is a[p*lda+i]. dst needs PackedASize(rows, k) words.
func (s *BgemmKernel) PackA(dst []uint32, a []uint16, lda int, trans bool, rows, k int) {
	packPairs(dst, a, lda, !trans, rows, k, s.MR, s.wideA)
}

// PackB packs the k x cols block of op(B) whose element (0, 0) is b[0].
// Without trans, element (p, j) is b[p*ldb+j]; with trans (B stored n x k)
// it is b[j*ldb+p]. dst needs PackedBSize(k, cols) words.
func (s *BgemmKernel) PackB(dst []uint32, b []uint16, ldb int, trans bool, k, cols int) {
	packPairs(dst, b, ldb, trans, cols, k, s.NR, false)
}

// packPairs packs w x k elements x(i, p) into slivers of width r: sliver s
// holds, for each pair q, the r entries of x(s*r+i, 2q) and x(s*r+i, 2q+1)
// (zero past w or k): one word of two bf16 (low half first), or with wide
// two float32 words. x(i, p) = src[i*ld+p] when rowMajor, else src[p*ld+i].
func packPairs(dst []uint32, src []uint16, ld int, rowMajor bool, w, k, r int, wide bool) {
	if w <= 0 || k <= 0 {
		return
	}
	kq := Pairs(k)
	per := 1
	if wide {
		per = 2
	}
	need := ceilDiv(w, r) * r * kq * per
	if len(dst) < need {
		panic(fmt.Sprintf("asm: bf16 pack: len(dst)=%d < %d", len(dst), need))
	}
	at := func(i, p int) uint16 {
		if i >= w || p >= k {
			return 0
		}
		if rowMajor {
			return src[i*ld+p]
		}
		return src[p*ld+i]
	}
	for s0 := 0; s0 < w; s0 += r {
		out := dst[s0*kq*per : (s0+r)*kq*per]
		full := s0+r <= w && k%2 == 0
		q0 := 0
		if rowMajor && !wide && s0+r <= w && ld%2 == 0 {
			// Each pair is one aligned word of a row: gathering words is
			// SGEMM's register transpose of float32s, reused bit for bit.
			src32 := unsafe.Slice((*float32)(unsafe.Pointer(&src[s0*ld])), (len(src)-s0*ld)/2)
			out32 := unsafe.Slice((*float32)(unsafe.Pointer(&out[0])), len(out))
			q0 = transposeFast(out32, src32, ld/2, r, k/2)
		}
		if !rowMajor && !wide && s0+r <= w && k >= 2 && bf16Interleave != nil && r%16 == 0 {
			kf := k / 2                                 // whole pairs; an odd k's last one goes below
			_, _ = src[(2*kf-1)*ld+s0+r-1], out[kf*r-1] // the extent the assembly touches
			bf16Interleave(&out[0], &src[s0], ld, kf, r)
			q0 = kf
		}
		for q := q0; q < kq; q++ {
			row := out[q*r*per : (q+1)*r*per]
			p := 2 * q
			switch {
			case full && rowMajor && !wide:
				for i := 0; i < r; i++ {
					x := src[(s0+i)*ld+p:]
					row[i] = uint32(x[0]) | uint32(x[1])<<16
				}
			case full && !rowMajor && !wide:
				lo, hi := src[p*ld+s0:p*ld+s0+r], src[(p+1)*ld+s0:(p+1)*ld+s0+r]
				for i := range r {
					row[i] = uint32(lo[i]) | uint32(hi[i])<<16
				}
			case wide:
				for i := 0; i < r; i++ {
					row[2*i] = uint32(at(s0+i, p)) << 16
					row[2*i+1] = uint32(at(s0+i, p+1)) << 16
				}
			default:
				for i := 0; i < r; i++ {
					row[i] = uint32(at(s0+i, p)) | uint32(at(s0+i, p+1))<<16
				}
			}
		}
	}
}

// bf16Interleave, when set, is the assembly of packing's copy case (two
// rows of k merged into words; see bf16_gen.go).
var bf16Interleave func(dst *uint32, src *uint16, ld, kq, r int)

// bgemmBest is the kernel backend/cpu uses; bgemmAll lists every variant
// this CPU can run, best first (filled by bf16_select_*.go).
var (
	bgemmBest *BgemmKernel
	bgemmAll  []*BgemmKernel
)

// Bgemm returns the fastest BF16 GEMM micro-kernel for this CPU.
func Bgemm() *BgemmKernel { return bgemmBest }

// BgemmKernels returns every variant this CPU can run, best first; the last
// is the portable Go one. It is meant for tests and benchmarks.
func BgemmKernels() []*BgemmKernel { return append([]*BgemmKernel(nil), bgemmAll...) }

// bgemmGeneric is the portable twin: a 4 x 4 tile, each product (exact in
// float32: 8-bit by 8-bit significands) added to a float32 sum, for each
// pair q the odd k (2q+1) first and then the even (2q). That is the order
// Intel documents for VDPBF16PS, and the one this Zen 5 measured (a probe
// with products 1, 2^-24, 2^-23 tells apart odd first, even first and an
// unrounded pair sum); the AVX-512F fallback adds in the same order, so
// every variant gives the same bits except where VDPBF16PS flushes
// denormal inputs, products or sums to zero.
var bgemmGeneric = &BgemmKernel{Name: "generic-4x4", MR: 4, NR: 4, fn: bgemmKernel4x4Generic}

func bgemmKernel4x4Generic(kq int, pa, pb *uint32, pc *float32, ldc int, alpha, beta float32) {
	a := unsafeWords(pa, 4*kq)
	b := unsafeWords(pb, 4*kq)
	c := unsafeSlice(pc, 3*ldc+4)
	var acc [16]float32
	for q := 0; q < kq; q++ {
		av := a[q*4 : q*4+4 : q*4+4]
		bv := b[q*4 : q*4+4 : q*4+4]
		for _, half := range [2]int{16, 0} { // odd k, then even
			var x, y [4]float32
			for i := range 4 {
				x[i] = math.Float32frombits(av[i] >> half << 16)
				y[i] = math.Float32frombits(bv[i] >> half << 16)
			}
			for i := range 4 {
				for j := range 4 {
					// float32() keeps the compiler from fusing (a rounding
					// the assembly does not make; the product is exact).
					acc[i*4+j] += float32(x[i] * y[j])
				}
			}
		}
	}
	storeTile(c, ldc, acc[:], 4, 4, alpha, beta)
}

func unsafeWords(p *uint32, n int) []uint32 { return unsafe.Slice(p, n) }
