package asm

import "strconv"

// The exported kernels call through these variables, which selectKernels
// points at the best variant for this CPU once, at start-up.
var (
	dotImpl        = dotGeneric
	axpyImpl       = axpyGeneric
	scaleImpl      = scaleGeneric
	addImpl        = addGeneric
	mulImpl        = mulGeneric
	sumImpl        = sumGeneric
	maxImpl        = maxGeneric
	argmaxImpl     = argmaxGeneric
	expImpl        = expGeneric
	expSubImpl     = expSubGeneric
	expSumsImpl    = expSumsGeneric
	softmaxImpl    = softmaxGeneric
	logSoftmaxImpl = logSoftmaxGeneric
	entropyImpl    = entropyGeneric
	rmsNormImpl    = rmsNormGeneric
	siluImpl       = siluGeneric
)

// Dot returns sum(x[i]*y[i]) for i < len(x). len(y) >= len(x).
// The SIMD variants keep several partial sums, so their rounding differs
// from a left-to-right sum (each variant is deterministic).
func Dot(x, y []float32) float32 {
	need(len(y), len(x))
	return dotImpl(x, y)
}

// Axpy computes y[i] += alpha*x[i] for i < len(x). len(y) >= len(x).
func Axpy(alpha float32, x, y []float32) {
	need(len(y), len(x))
	axpyImpl(alpha, x, y)
}

// Scale computes x[i] *= alpha for i < len(x).
func Scale(alpha float32, x []float32) { scaleImpl(alpha, x) }

// Add computes dst[i] = a[i] + b[i] for i < len(dst).
func Add(dst, a, b []float32) {
	need(len(a), len(dst))
	need(len(b), len(dst))
	addImpl(dst, a, b)
}

// Mul computes dst[i] = a[i] * b[i] for i < len(dst).
func Mul(dst, a, b []float32) {
	need(len(a), len(dst))
	need(len(b), len(dst))
	mulImpl(dst, a, b)
}

// Sum returns sum(x[i]) for i < len(x). Rounding as for Dot.
func Sum(x []float32) float32 { return sumImpl(x) }

// Max returns max(x[i]); -Inf for an empty slice; NaN if any x[i] is NaN.
// The sign of a zero maximum (-0 or +0) is unspecified.
func Max(x []float32) float32 { return maxImpl(x) }

// Argmax returns the smallest i with x[i] == Max(x), ignoring NaNs; -1 when
// x is empty or all NaN.
func Argmax(x []float32) int { return argmaxImpl(x) }

// Exp computes dst[i] = exp(x[i]) for i < len(dst), with a maximum relative
// error of 2e-7 on [-88, 88] (7.4e-8 where the result is normal; on
// [-88, -87.34] it is a denormal). x < -88 flushes to 0, x above
// ln(MaxFloat32) = 88.7228 gives +Inf, NaN gives NaN.
func Exp(dst, x []float32) {
	need(len(x), len(dst))
	expImpl(dst, x)
}

// ExpSub computes dst[i] = exp(x[i] - m) for i < len(dst) and returns
// their sum: the exponentials of a softmax relative to a known maximum m
// (or any shift), for callers that normalise or accumulate themselves.
func ExpSub(dst, x []float32, m float32) float32 {
	need(len(x), len(dst))
	return expSubImpl(dst, x, m)
}

// ExpSums returns s = sum(exp(x[i] - m)) and sx = sum(exp(x[i] - m)*(x[i] - m))
// over x: with m = max(x), log s is the log-sum-exp minus m and
// log s - sx/s the entropy of softmax(x). Callers that see a row in pieces
// (the fused LM head) combine the pieces' sums themselves.
func ExpSums(x []float32, m float32) (s, sx float32) { return expSumsImpl(x, m) }

// Softmax computes dst = exp(x - max(x)) / sum(exp(x - max(x))) over one row.
// dst may alias x.
func Softmax(dst, x []float32) {
	need(len(x), len(dst))
	softmaxImpl(dst, x)
}

// LogSoftmax computes dst[i] = x[i] - max(x) - log(sum(exp(x - max(x)))).
// dst may alias x.
func LogSoftmax(dst, x []float32) {
	need(len(x), len(dst))
	logSoftmaxImpl(dst, x)
}

// Entropy returns the Shannon entropy in nats of softmax(x):
// H = -sum(p[i]*log p[i]) = logsumexp(x) - sum(p[i]*x[i]).
func Entropy(x []float32) float32 { return entropyImpl(x) }

// EntropyOf returns the entropy of softmax(x) from s, sx = ExpSums(x,
// max(x)): Entropy(x) is exactly EntropyOf(ExpSums(x, Max(x))), for a
// caller that needs s too.
func EntropyOf(s, sx float32) float32 { return entropyOf(s, sx) }

// RMSNorm computes dst[i] = x[i] * r * w[i] with r = 1/sqrt(mean(x^2) + eps)
// over one row, and returns r (kept by the caller for backward).
func RMSNorm(dst, x, w []float32, eps float32) float32 {
	need(len(x), len(dst))
	need(len(w), len(dst))
	return rmsNormImpl(dst, x, w, eps)
}

// SiLU computes dst[i] = x[i] / (1 + exp(-x[i])). dst may alias x.
// SiLU(-Inf) is NaN (Inf/Inf), as the formula says.
func SiLU(dst, x []float32) {
	need(len(x), len(dst))
	siluImpl(dst, x)
}

// need panics when a slice is shorter than the row it must cover: the
// assembly variants trust the lengths, so the check lives here, once, for
// every variant.
func need(have, want int) {
	if have < want {
		panic("asm: slice of length " + strconv.Itoa(have) + " shorter than the row (" + strconv.Itoa(want) + ")")
	}
}

// level names the instruction set the kernels use: "avx512", "avx2" or
// "generic". selectKernels sets it once, at start-up.
var level = "generic"

// Level returns the instruction set the kernels were chosen for.
func Level() string { return level }
