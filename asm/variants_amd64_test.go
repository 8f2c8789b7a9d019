//go:build !noasm

package asm

import "github.com/klauspost/cpuid/v2"

// variants returns the generic twins and every assembly level this CPU runs.
func variants() []variant {
	vs := []variant{genericVariant()}
	if cpuid.CPU.Supports(cpuid.AVX2, cpuid.FMA3) {
		vs = append(vs, variant{
			name: "avx2", dot: dotAVX2, axpy: axpyAVX2, scale: scaleAVX2,
			add: addAVX2, mul: mulAVX2, sum: sumAVX2, max: maxAVX2, argmax: argmaxAVX2,
			exp: expAVX2, expSub: expSubAVX2, expSums: expSumsAVX2, softmax: softmaxAVX2, logSoftmax: logSoftmaxAVX2,
			entropy: entropyAVX2, rmsNorm: rmsNormAVX2, silu: siluAVX2,
		})
	}
	if cpuid.CPU.Supports(cpuid.AVX512F, cpuid.AVX2, cpuid.FMA3) {
		vs = append(vs, variant{
			name: "avx512", dot: dotAVX512, axpy: axpyAVX512, scale: scaleAVX512,
			add: addAVX512, mul: mulAVX512, sum: sumAVX512, max: maxAVX512, argmax: argmaxAVX512,
			exp: expAVX512, expSub: expSubAVX512, expSums: expSumsAVX512, softmax: softmaxAVX512, logSoftmax: logSoftmaxAVX512,
			entropy: entropyAVX512, rmsNorm: rmsNormAVX512, silu: siluAVX512,
		})
	}
	return vs
}
