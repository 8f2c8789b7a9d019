//go:build !amd64 || noasm

package asm

// PrefetchF32 is a hint where the CPU takes it; here it does nothing.
func PrefetchF32(x []float32) {}

// PrefetchBF16 is PrefetchF32 for bf16 data.
func PrefetchBF16(x []uint16) {}
