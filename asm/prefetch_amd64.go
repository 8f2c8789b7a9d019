//go:build !noasm

package asm

import "unsafe"

//go:noescape
func prefetchLines(p unsafe.Pointer, n int)

// PrefetchF32 asks the CPU to bring x into its caches (PREFETCHT0 on each
// line), for memory a kernel reads next; it changes no result.
func PrefetchF32(x []float32) {
	if len(x) > 0 {
		prefetchLines(unsafe.Pointer(&x[0]), 4*len(x))
	}
}

// PrefetchBF16 is PrefetchF32 for bf16 data.
func PrefetchBF16(x []uint16) {
	if len(x) > 0 {
		prefetchLines(unsafe.Pointer(&x[0]), 2*len(x))
	}
}
