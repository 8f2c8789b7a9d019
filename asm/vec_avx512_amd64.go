//go:build !noasm

package asm

// The AVX-512F kernels, in vec_avx512_amd64.s. The callers check lengths
// (asm.go), so the assembly trusts them.

// dotAVX512 returns sum(x[i]*y[i]) for i < len(x).
//
//go:noescape
func dotAVX512(x, y []float32) float32

// axpyAVX512 computes y[i] += alpha*x[i] for i < len(x).
//
//go:noescape
func axpyAVX512(alpha float32, x, y []float32)

// scaleAVX512 computes x[i] *= alpha for i < len(x).
//
//go:noescape
func scaleAVX512(alpha float32, x []float32)

// addAVX512 computes dst[i] = a[i] + b[i] for i < len(dst).
//
//go:noescape
func addAVX512(dst, a, b []float32)

// mulAVX512 computes dst[i] = a[i] * b[i] for i < len(dst).
//
//go:noescape
func mulAVX512(dst, a, b []float32)

// sumAVX512 returns sum(x[i]) for i < len(x).
//
//go:noescape
func sumAVX512(x []float32) float32

// maxAVX512 returns max(x[i]); -Inf for an empty slice; NaN if any x[i] is NaN.
//
//go:noescape
func maxAVX512(x []float32) float32

// argmaxAVX512 returns the smallest i with x[i] == Max(x), ignoring NaNs; -1
// when x is empty or all NaN.
//
//go:noescape
func argmaxAVX512(x []float32) int

// expAVX512 computes dst[i] = exp(x[i]) for i < len(dst).
//
//go:noescape
func expAVX512(dst, x []float32)

// expSubAVX512 computes dst[i] = exp(x[i] - m) for i < len(dst) and returns
// sum(dst[i]).
//
//go:noescape
func expSubAVX512(dst, x []float32, m float32) float32

// expSumsAVX512 returns s = sum(exp(x[i] - m)) and sx = sum(exp(x[i] - m)*(x[i] - m)).
//
//go:noescape
func expSumsAVX512(x []float32, m float32) (s, sx float32)

// addConstAVX512 computes dst[i] = x[i] + c for i < len(dst).
//
//go:noescape
func addConstAVX512(dst, x []float32, c float32)

// scaleMulAVX512 computes dst[i] = x[i] * r * w[i] for i < len(dst).
//
//go:noescape
func scaleMulAVX512(dst, x, w []float32, r float32)

// siluAVX512 computes dst[i] = x[i] / (1 + exp(-x[i])) for i < len(dst).
//
//go:noescape
func siluAVX512(dst, x []float32)

// The row kernels of the AVX-512 level: each is a few full-row passes in
// assembly glued by a scalar step in Go.

// softmaxAVX512 computes dst = exp(x - max(x)) / sum(exp(x - max(x))) over one row.
func softmaxAVX512(dst, x []float32) {
	s := expSubAVX512(dst, x, maxAVX512(x[:len(dst)]))
	scaleAVX512(1/s, dst)
}

// logSoftmaxAVX512 computes dst[i] = x[i] - max(x) - log(sum(exp(x - max(x)))).
func logSoftmaxAVX512(dst, x []float32) {
	x = x[:len(dst)]
	m := maxAVX512(x)
	s, _ := expSumsAVX512(x, m)
	addConstAVX512(dst, x, -logSumExp(m, s))
}

// entropyAVX512 returns the Shannon entropy in nats of softmax(x).
func entropyAVX512(x []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	s, sx := expSumsAVX512(x, maxAVX512(x))
	return entropyOf(s, sx)
}

// rmsNormAVX512 computes dst[i] = x[i] * r * w[i] with r = 1/sqrt(mean(x^2) + eps).
func rmsNormAVX512(dst, x, w []float32, eps float32) float32 {
	x = x[:len(dst)]
	r := rmsScale(dotAVX512(x, x), len(x), eps)
	scaleMulAVX512(dst, x, w, r)
	return r
}
