//go:build !amd64 || noasm

package asm

func init() {
	sgemmAll = []*SgemmKernel{sgemmGeneric}
	sgemmBest = sgemmGeneric
}

// rowAVX512 is always false here; tests flip it on amd64 only.
var rowAVX512 bool

// rowAcc has no assembly here; sgemmRowGeneric does all columns.
func rowAcc(k int, a []float32, inca int, b []float32, ldb int, t []float32) int { return 0 }

// dots has no assembly here; SgemmDots falls back to sgemmDotsGeneric.
func dots(ar, br, k int, a []float32, lda int, b []float32, ldb int, out []float32) bool {
	return false
}
