package asm

import (
	"fmt"
	"unsafe"
)

//go:generate go run gemm_gen.go

// SgemmKernel is one SGEMM micro-kernel variant with its tile size and the
// packing routines that lay out operands for it (Goto/BLIS scheme).
//
// Packed layouts, for a block of depth k:
//   - A: slivers of MR rows; sliver s holds, for p = 0..k-1, the MR values
//     op(A)[s*MR+r][p] (r = 0..MR-1). Rows past the block are zero.
//   - B: slivers of NR columns; sliver t holds, for p = 0..k-1, the NR values
//     op(B)[p][t*NR+j] (j = 0..NR-1). Columns past the block are zero.
//
// Transposition is absorbed by packing: the kernel sees the same layout in
// all four cases.
type SgemmKernel struct {
	// Name says the instruction set and tile, e.g. "avx512-14x32".
	Name string
	// MR and NR are the rows and columns of the register tile.
	MR, NR int

	fn func(k int, a, b, c *float32, ldc int, alpha, beta float32)
}

// Kernel computes one full MR x NR tile of C at c[0] (row stride ldc):
// C = alpha*A*B + beta*C, where a is a packed MR x k sliver and b a packed
// k x NR sliver. beta == 0 ignores C's old contents (NaN included). k >= 1.
func (s *SgemmKernel) Kernel(k int, a, b, c []float32, ldc int, alpha, beta float32) {
	if k < 1 || len(a) < k*s.MR || len(b) < k*s.NR || ldc < s.NR || len(c) < (s.MR-1)*ldc+s.NR {
		panic(fmt.Sprintf("asm: %s kernel: k=%d len(a)=%d len(b)=%d ldc=%d len(c)=%d", s.Name, k, len(a), len(b), ldc, len(c)))
	}
	s.fn(k, &a[0], &b[0], &c[0], ldc, alpha, beta)
}

// PackedASize is the length PackA needs for a rows x k block.
func (s *SgemmKernel) PackedASize(rows, k int) int { return ceilDiv(rows, s.MR) * s.MR * k }

// PackedBSize is the length PackB needs for a k x cols block.
func (s *SgemmKernel) PackedBSize(k, cols int) int { return ceilDiv(cols, s.NR) * s.NR * k }

// PackA packs the rows x k block of op(A) whose element (0, 0) is a[0] into
// dst. Without trans, element (i, p) is a[i*lda+p]; with trans (A stored
// k x m) it is a[p*lda+i]. dst needs PackedASize(rows, k) elements.
func (s *SgemmKernel) PackA(dst, a []float32, lda int, trans bool, rows, k int) {
	packPanels(dst, a, lda, !trans, rows, k, s.MR)
}

// PackB packs the k x cols block of op(B) whose element (0, 0) is b[0] into
// dst. Without trans, element (p, j) is b[p*ldb+j]; with trans (B stored
// n x k) it is b[j*ldb+p]. dst needs PackedBSize(k, cols) elements.
func (s *SgemmKernel) PackB(dst, b []float32, ldb int, trans bool, k, cols int) {
	packPanels(dst, b, ldb, trans, cols, k, s.NR)
}

// packPanels packs w x k elements into slivers of width r: sliver s holds,
// for p = 0..k-1, the r values x(s*r+i, p). When gather is false x(i, p) =
// src[p*ld+i] (each p is a contiguous run, copied); when gather is true
// x(i, p) = src[i*ld+p] (each i is a contiguous run, scattered with stride r).
func packPanels(dst, src []float32, ld int, gather bool, w, k, r int) {
	if w <= 0 || k <= 0 {
		return
	}
	need := ceilDiv(w, r) * r * k
	if len(dst) < need {
		panic(fmt.Sprintf("asm: pack: len(dst)=%d < %d", len(dst), need))
	}
	s0 := 0
	if f := sgemmCopiers[r]; !gather && f != nil && w >= r {
		full := w / r
		_, _ = src[(k-1)*ld+full*r-1], dst[full*r*k-1] // the extent the assembly touches
		f(&dst[0], &src[0], ld, k, full)
		s0 = full * r
	}
	for ; s0 < w; s0 += r {
		n := min(r, w-s0)
		out := dst[s0*k : s0*k+r*k]
		if gather {
			p0 := 0
			if n == r {
				p0 = transposeFast(out, src[s0*ld:], ld, r, k)
			}
			for i := 0; i < n; i++ {
				row := src[(s0+i)*ld+p0 : (s0+i)*ld+k]
				for p, v := range row {
					out[(p0+p)*r+i] = v
				}
			}
		} else {
			for p := 0; p < k; p++ {
				copy(out[p*r:p*r+n], src[p*ld+s0:p*ld+s0+n])
			}
		}
		if n < r {
			for p := 0; p < k; p++ {
				clear(out[p*r+n : p*r+r])
			}
		}
	}
}

// sgemmTransposers[r], when set, transposes r rows x 16 columns blocks in
// registers (see gemm_gen.go): the gather half of packing, which is
// otherwise one scalar load and store per element.
var sgemmTransposers [17]func(dst, src *float32, ld, stride, blocks int)

// sgemmCopiers[r], when set, packs whole slivers of width r in the copy
// case, row by row of the source, without a memmove call per run.
var sgemmCopiers [65]func(dst, src *float32, ld, k, slivers int)

// transposeFast gathers out[p*r+i] = src[i*ld+p] for i < r and p below the
// largest multiple of 16 <= k that the CPU's transposers handle, and returns
// that bound (0 when it did nothing).
func transposeFast(out, src []float32, ld, r, k int) int {
	blocks := k / 16
	if blocks == 0 {
		return 0
	}
	p := blocks * 16
	if r <= 16 && sgemmTransposers[r] != nil {
		_, _ = src[(r-1)*ld+p-1], out[p*r-1] // the extent the assembly touches
		sgemmTransposers[r](&out[0], &src[0], ld, r, blocks)
		return p
	}
	if f := sgemmTransposers[16]; r%16 == 0 && f != nil {
		_, _ = src[(r-1)*ld+p-1], out[p*r-1]
		for h := 0; h < r; h += 16 {
			f(&out[h], &src[h*ld], ld, r, blocks)
		}
		return p
	}
	return 0
}

func ceilDiv(a, b int) int { return (a + b - 1) / b }

// sgemmBest is the kernel the CPU backend uses; sgemmAll lists every variant
// this CPU can run, best first. The init function of gemm_select_*.go fills
// them from the CPU's features.
var (
	sgemmBest *SgemmKernel
	sgemmAll  []*SgemmKernel
)

// Sgemm returns the fastest SGEMM micro-kernel for this CPU.
func Sgemm() *SgemmKernel { return sgemmBest }

// SgemmKernels returns every variant this CPU can run, best first; the last
// is the portable Go one. It is meant for tests and benchmarks.
func SgemmKernels() []*SgemmKernel { return append([]*SgemmKernel(nil), sgemmAll...) }

// sgemmGeneric is the portable variant: a 4 x 4 tile in scalar variables,
// which the compiler keeps in registers.
var sgemmGeneric = &SgemmKernel{Name: "generic-4x4", MR: 4, NR: 4, fn: sgemmKernel4x4Generic}

func sgemmKernel4x4Generic(k int, pa, pb, pc *float32, ldc int, alpha, beta float32) {
	a := unsafeSlice(pa, 4*k)
	b := unsafeSlice(pb, 4*k)
	c := unsafeSlice(pc, 3*ldc+4)
	var c00, c01, c02, c03, c10, c11, c12, c13 float32
	var c20, c21, c22, c23, c30, c31, c32, c33 float32
	for p := 0; p < k; p++ {
		av := a[p*4 : p*4+4 : p*4+4]
		bv := b[p*4 : p*4+4 : p*4+4]
		a0, a1, a2, a3 := av[0], av[1], av[2], av[3]
		b0, b1, b2, b3 := bv[0], bv[1], bv[2], bv[3]
		c00, c01, c02, c03 = c00+a0*b0, c01+a0*b1, c02+a0*b2, c03+a0*b3
		c10, c11, c12, c13 = c10+a1*b0, c11+a1*b1, c12+a1*b2, c13+a1*b3
		c20, c21, c22, c23 = c20+a2*b0, c21+a2*b1, c22+a2*b2, c23+a2*b3
		c30, c31, c32, c33 = c30+a3*b0, c31+a3*b1, c32+a3*b2, c33+a3*b3
	}
	acc := [16]float32{c00, c01, c02, c03, c10, c11, c12, c13, c20, c21, c22, c23, c30, c31, c32, c33}
	storeTile(c, ldc, acc[:], 4, 4, alpha, beta)
}

// storeTile writes C = alpha*acc + beta*C for an mr x nr tile (acc row-major).
func storeTile(c []float32, ldc int, acc []float32, mr, nr int, alpha, beta float32) {
	for i := 0; i < mr; i++ {
		row := c[i*ldc : i*ldc+nr]
		t := acc[i*nr : i*nr+nr]
		if beta == 0 {
			for j := range row {
				row[j] = alpha * t[j]
			}
		} else {
			for j := range row {
				row[j] = alpha*t[j] + beta*row[j]
			}
		}
	}
}

// unsafeSlice views n elements at p; the kernels take pointers so that the
// assembly variants need no slice headers.
func unsafeSlice(p *float32, n int) []float32 { return unsafe.Slice(p, n) }
