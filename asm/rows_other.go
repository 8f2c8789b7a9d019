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
