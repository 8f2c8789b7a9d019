//go:build !amd64 || noasm

package asm

// rowsVariant is one implementation of the strided-row kernels.
type rowsVariant struct {
	name string
	dot  func(out, q, k []float32, ldk int)
	axpy func(out, p, v []float32, ldv int)
}

// rowsVariants lists the generic twins, the only variant of this build.
func rowsVariants() []rowsVariant {
	return []rowsVariant{{"generic", dotRowsGeneric, axpyRowsGeneric}}
}

// rowsBF16Variant is one implementation of the bf16 strided-row kernels.
type rowsBF16Variant struct {
	name string
	dot  func(out, q []float32, k []uint16, ldk int)
	axpy func(out, p []float32, v []uint16, ldv int)
}

// rowsBF16Variants lists the generic twins, the only variant of this build.
func rowsBF16Variants() []rowsBF16Variant {
	return []rowsBF16Variant{{"generic", dotRowsBF16Generic, axpyRowsBF16Generic}}
}
