//go:build !noasm

package asm

import "github.com/klauspost/cpuid/v2"

func init() { selectKernels() }

// selectKernels points the kernel variables at the best variant for this
// CPU, once, at start-up. cpuid reports AVX2 and AVX-512 only when the OS
// also saves their registers (XCR0), so a feature seen here is usable.
func selectKernels() {
	switch {
	case cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX2, cpuid.FMA3):
		useAVX512()
	case cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3):
		useAVX2()
	default:
		level = "generic"
	}
}

func useAVX2() {
	level = "avx2"
	dotImpl, axpyImpl, scaleImpl = dotAVX2, axpyAVX2, scaleAVX2
	addImpl, mulImpl, sumImpl = addAVX2, mulAVX2, sumAVX2
	maxImpl, argmaxImpl, expImpl = maxAVX2, argmaxAVX2, expAVX2
	expSubImpl, expSumsImpl = expSubAVX2, expSumsAVX2
	softmaxImpl, logSoftmaxImpl, entropyImpl = softmaxAVX2, logSoftmaxAVX2, entropyAVX2
	rmsNormImpl, siluImpl = rmsNormAVX2, siluAVX2
}

func useAVX512() {
	level = "avx512"
	dotImpl, axpyImpl, scaleImpl = dotAVX512, axpyAVX512, scaleAVX512
	addImpl, mulImpl, sumImpl = addAVX512, mulAVX512, sumAVX512
	maxImpl, argmaxImpl, expImpl = maxAVX512, argmaxAVX512, expAVX512
	expSubImpl, expSumsImpl = expSubAVX512, expSumsAVX512
	softmaxImpl, logSoftmaxImpl, entropyImpl = softmaxAVX512, logSoftmaxAVX512, entropyAVX512
	rmsNormImpl, siluImpl = rmsNormAVX512, siluAVX512
}
