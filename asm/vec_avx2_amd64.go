//go:build !noasm

package asm

// The AVX2+FMA kernels, in vec_avx2_amd64.s. The callers check lengths
// (asm.go), so the assembly trusts them.

// dotAVX2 returns sum(x[i]*y[i]) for i < len(x).
//
//go:noescape
func dotAVX2(x, y []float32) float32

// axpyAVX2 computes y[i] += alpha*x[i] for i < len(x).
//
//go:noescape
func axpyAVX2(alpha float32, x, y []float32)

// scaleAVX2 computes x[i] *= alpha for i < len(x).
//
//go:noescape
func scaleAVX2(alpha float32, x []float32)

// addAVX2 computes dst[i] = a[i] + b[i] for i < len(dst).
//
//go:noescape
func addAVX2(dst, a, b []float32)

// mulAVX2 computes dst[i] = a[i] * b[i] for i < len(dst).
//
//go:noescape
func mulAVX2(dst, a, b []float32)

// sumAVX2 returns sum(x[i]) for i < len(x).
//
//go:noescape
func sumAVX2(x []float32) float32

// maxAVX2 returns max(x[i]); -Inf for an empty slice; NaN if any x[i] is NaN.
//
//go:noescape
func maxAVX2(x []float32) float32

// argmaxAVX2 returns the smallest i with x[i] == Max(x), ignoring NaNs; -1
// when x is empty or all NaN.
//
//go:noescape
func argmaxAVX2(x []float32) int

// expAVX2 computes dst[i] = exp(x[i]) for i < len(dst).
//
//go:noescape
func expAVX2(dst, x []float32)

// expSubAVX2 computes dst[i] = exp(x[i] - m) for i < len(dst) and returns
// sum(dst[i]).
//
//go:noescape
func expSubAVX2(dst, x []float32, m float32) float32

// expSumsAVX2 returns s = sum(exp(x[i] - m)) and sx = sum(exp(x[i] - m)*(x[i] - m)).
//
//go:noescape
func expSumsAVX2(x []float32, m float32) (s, sx float32)

// addConstAVX2 computes dst[i] = x[i] + c for i < len(dst).
//
//go:noescape
func addConstAVX2(dst, x []float32, c float32)

// scaleMulAVX2 computes dst[i] = x[i] * r * w[i] for i < len(dst).
//
//go:noescape
func scaleMulAVX2(dst, x, w []float32, r float32)

// siluAVX2 computes dst[i] = x[i] / (1 + exp(-x[i])) for i < len(dst).
//
//go:noescape
func siluAVX2(dst, x []float32)

// The row kernels of the AVX2 level: each is a few full-row passes in
// assembly glued by a scalar step in Go.

// softmaxAVX2 computes dst = exp(x - max(x)) / sum(exp(x - max(x))) over one row.
func softmaxAVX2(dst, x []float32) {
	s := expSubAVX2(dst, x, maxAVX2(x[:len(dst)]))
	scaleAVX2(1/s, dst)
}

// logSoftmaxAVX2 computes dst[i] = x[i] - max(x) - log(sum(exp(x - max(x)))).
func logSoftmaxAVX2(dst, x []float32) {
	x = x[:len(dst)]
	m := maxAVX2(x)
	s, _ := expSumsAVX2(x, m)
	addConstAVX2(dst, x, -logSumExp(m, s))
}

// entropyAVX2 returns the Shannon entropy in nats of softmax(x).
func entropyAVX2(x []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	s, sx := expSumsAVX2(x, maxAVX2(x))
	return entropyOf(s, sx)
}

// rmsNormAVX2 computes dst[i] = x[i] * r * w[i] with r = 1/sqrt(mean(x^2) + eps).
func rmsNormAVX2(dst, x, w []float32, eps float32) float32 {
	x = x[:len(dst)]
	r := rmsScale(dotAVX2(x, x), len(x), eps)
	scaleMulAVX2(dst, x, w, r)
	return r
}
