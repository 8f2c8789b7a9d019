package asm

// bgemmSmallOf maps a BF16 GEMM kernel to its small-m sibling (filled by
// bgemm_small_amd64.go).
var bgemmSmallOf = map[*BgemmKernel]*BgemmKernel{}

// BgemmSmall returns the kernel for products of a few rows (a decode step)
// that goes with s: a shorter tile (4 x 32 instead of 14 x 32, so a lone row
// does 4 times, not 14 times, its own arithmetic) that adds the same
// products in the same order as s and rounds its store the same way, so
// every element of C gets the same bits from either. Where s has no such
// sibling (the generic 4 x 4 twin is short already), it returns s.
func BgemmSmall(s *BgemmKernel) *BgemmKernel {
	if t, ok := bgemmSmallOf[s]; ok {
		return t
	}
	return s
}
