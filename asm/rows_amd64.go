//go:build !noasm

package asm

import "github.com/klauspost/cpuid/v2"

// The strided-row kernels in rows_avx512_amd64.s and rows_avx2_amd64.s.
// DotRows and AxpyRows check the lengths, so the assembly trusts them.

// dotRowsAVX512 is DotRows for AVX-512F.
//
//go:noescape
func dotRowsAVX512(out, q, k []float32, ldk int)

// axpyRowsAVX512 is AxpyRows for AVX-512F.
//
//go:noescape
func axpyRowsAVX512(out, p, v []float32, ldv int)

// dotRowsAVX2 is DotRows for AVX2 and FMA3.
//
//go:noescape
func dotRowsAVX2(out, q, k []float32, ldk int)

// axpyRowsAVX2 is AxpyRows for AVX2 and FMA3.
//
//go:noescape
func axpyRowsAVX2(out, p, v []float32, ldv int)

// dotRowsBF16AVX512 is DotRowsBF16 for AVX-512F, BW and VL.
//
//go:noescape
func dotRowsBF16AVX512(out, q []float32, k []uint16, ldk int)

// axpyRowsBF16AVX512 is AxpyRowsBF16 for AVX-512F, BW and VL.
//
//go:noescape
func axpyRowsBF16AVX512(out, p []float32, v []uint16, ldv int)

// dotRowsBF16AVX2 is DotRowsBF16 for AVX2 and FMA3, len(q) a multiple of
// 16.
//
//go:noescape
func dotRowsBF16AVX2(out, q []float32, k []uint16, ldk int)

// axpyRowsBF16AVX2 is AxpyRowsBF16 for AVX2 and FMA3, len(out) a multiple
// of 8.
//
//go:noescape
func axpyRowsBF16AVX2(out, p []float32, v []uint16, ldv int)

// dotRowsBF16AVX2Any sends the lengths dotRowsBF16AVX2 takes to it, the
// rest (no head dimension of a real model) to the generic twin.
func dotRowsBF16AVX2Any(out, q []float32, k []uint16, ldk int) {
	if len(q)%16 != 0 {
		dotRowsBF16Generic(out, q, k, ldk)
		return
	}
	dotRowsBF16AVX2(out, q, k, ldk)
}

// axpyRowsBF16AVX2Any is dotRowsBF16AVX2Any for axpyRowsBF16AVX2.
func axpyRowsBF16AVX2Any(out, p []float32, v []uint16, ldv int) {
	if len(out)%8 != 0 {
		axpyRowsBF16Generic(out, p, v, ldv)
		return
	}
	axpyRowsBF16AVX2(out, p, v, ldv)
}

// The choice follows selectKernels (select_amd64.go): the same features pick
// the same level. All levels give the same bits, so this is about speed only.
func init() {
	for _, v := range rowsVariants()[1:] {
		dotRowsImpl, axpyRowsImpl = v.dot, v.axpy
	}
	for _, v := range rowsBF16Variants()[1:] {
		dotRowsBF16Impl, axpyRowsBF16Impl = v.dot, v.axpy
	}
}

// rowsVariant is one implementation of the strided-row kernels.
type rowsVariant struct {
	name string
	dot  func(out, q, k []float32, ldk int)
	axpy func(out, p, v []float32, ldv int)
}

// rowsVariants lists the generic twins, then every level this CPU runs, the
// best last.
func rowsVariants() []rowsVariant {
	vs := []rowsVariant{{"generic", dotRowsGeneric, axpyRowsGeneric}}
	if cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3) {
		vs = append(vs, rowsVariant{"avx2", dotRowsAVX2, axpyRowsAVX2})
	}
	if cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX2, cpuid.FMA3) {
		vs = append(vs, rowsVariant{"avx512", dotRowsAVX512, axpyRowsAVX512})
	}
	return vs
}

// rowsBF16Variant is one implementation of the bf16 strided-row kernels.
type rowsBF16Variant struct {
	name string
	dot  func(out, q []float32, k []uint16, ldk int)
	axpy func(out, p []float32, v []uint16, ldv int)
}

// rowsBF16Variants lists the generic twins, then every level this CPU
// runs, the best last.
func rowsBF16Variants() []rowsBF16Variant {
	vs := []rowsBF16Variant{{"generic", dotRowsBF16Generic, axpyRowsBF16Generic}}
	if cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3) {
		vs = append(vs, rowsBF16Variant{"avx2", dotRowsBF16AVX2Any, axpyRowsBF16AVX2Any})
	}
	if cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX512BW, cpuid.AVX512VL, cpuid.AVX2, cpuid.FMA3) {
		vs = append(vs, rowsBF16Variant{"avx512", dotRowsBF16AVX512, axpyRowsBF16AVX512})
	}
	return vs
}
