// Package asm holds the float32 kernels that the CPU backend is built on:
// vector ops (dot, axpy, scale, add, mul, sum, max, argmax), row kernels of
// the transformer (exp, softmax, log-softmax, entropy, RMSNorm, SiLU) and the
// SGEMM micro-kernel with its packing routines; bf16 conversions (bf16.go)
// and the BF16 GEMM micro-kernels (VDPBF16PS where the CPU has
// AVX512_BF16) with theirs.
//
// Each kernel has a pure-Go twin named with the suffix Generic and, on amd64,
// Go-assembly variants for AVX2+FMA and AVX-512F. The variant is chosen once
// at start-up from the CPU's features (github.com/klauspost/cpuid/v2); the
// build tag noasm forces the generic twins everywhere. Tests run every variant
// the machine supports against its generic twin.
//
// The kernels do no allocation and no bounds policy beyond what their doc
// comments state: a length mismatch is a programming error and panics.
// What this package is not for: threading, blocking and shapes. Those belong
// to backend/cpu.
package asm
