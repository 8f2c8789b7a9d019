package asm

// The generic twins: the reference loops of every kernel, used on platforms
// without assembly, under the build tag noasm, and by the tests as the
// behaviour the assembly must match. Each doc comment is the loop, worded as
// on the assembly stubs.

import "math"

// dotGeneric returns sum(x[i]*y[i]) for i < len(x).
func dotGeneric(x, y []float32) float32 {
	y = y[:len(x)]
	var s float32
	for i, v := range x {
		s += v * y[i]
	}
	return s
}

// axpyGeneric computes y[i] += alpha*x[i] for i < len(x).
func axpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

// scaleGeneric computes x[i] *= alpha for i < len(x).
func scaleGeneric(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

// addGeneric computes dst[i] = a[i] + b[i] for i < len(dst).
func addGeneric(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

// mulGeneric computes dst[i] = a[i] * b[i] for i < len(dst).
func mulGeneric(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

// sumGeneric returns sum(x[i]) for i < len(x).
func sumGeneric(x []float32) float32 {
	var s float32
	for _, v := range x {
		s += v
	}
	return s
}

// maxGeneric returns max(x[i]); -Inf for an empty slice; NaN if any x[i] is NaN.
func maxGeneric(x []float32) float32 {
	m := float32(math.Inf(-1))
	for _, v := range x {
		if v != v {
			return v
		}
		if v > m {
			m = v
		}
	}
	return m
}

// argmaxGeneric returns the smallest i with x[i] == Max(x), ignoring NaNs; -1
// when x is empty or all NaN.
func argmaxGeneric(x []float32) int {
	best := -1
	var m float32
	for i, v := range x {
		if v != v {
			continue
		}
		if best < 0 || v > m {
			best, m = i, v
		}
	}
	return best
}

// expGeneric computes dst[i] = exp(x[i]) for i < len(dst).
func expGeneric(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = expPoly(v)
	}
}

// exp32 is the scalar reference of the vector exp kernels: exp(x) in float64
// rounded to float32, with the kernels' range rules. Tests measure expPoly
// and the assembly against it.
func exp32(x float32) float32 {
	switch {
	case x != x:
		return x
	case x < -88:
		return 0
	case x > 88.72284:
		return float32(math.Inf(1))
	}
	return float32(math.Exp(float64(x)))
}

// The constants of the vector exp; vec_amd64.h holds the same values.
const (
	expHi    = float32(88.8) // above ln(MaxFloat32): clamping keeps n small, the result still overflows to +Inf
	expMin   = float32(-88)  // exp(x) for x < expMin flushes to 0
	expLog2e = float32(1.44269504088896341)
	expLn2Hi = float32(0.693359375) // 10 significant bits: n*expLn2Hi is exact for |n| <= 128
	expLn2Lo = float32(-2.12194440e-4)
	expP0    = float32(1.9875691500e-4) // Cephes expf, minimax on [-ln2/2, ln2/2]
	expP1    = float32(1.3981999507e-3)
	expP2    = float32(8.3334519073e-3)
	expP3    = float32(4.1665795894e-2)
	expP4    = float32(1.6666665459e-1)
	expP5    = float32(5.0000001201e-1)
)

// expPoly is exp(x) computed the way the vector kernels do, step for step,
// so that the generic twins agree with the assembly to the last bit or so:
// x = n ln2 + r with n = round(x log2e) and a Cody-Waite split of ln2,
// exp(r) by a degree-7 polynomial in Horner form with fused multiply-adds,
// then a scale by 2^n as two exact powers of two (so that n = 128 overflows
// to +Inf and n = -127 gives a correctly rounded denormal). Its maximum
// relative error against float64 exp is 7.4e-8 where the result is normal
// and 1.8e-7 in the denormal range [-88, -87.34]. x < -88 gives 0, x above
// ln(MaxFloat32) gives +Inf, NaN gives NaN.
func expPoly(x float32) float32 {
	if x != x {
		return x
	}
	if x < expMin {
		return 0
	}
	xc := min(x, expHi)
	// Adding and subtracting 1.5*2^23 rounds to the nearest integer, ties to
	// even, as VROUNDPS does: |xc*log2e| <= 128 here, far below 2^22.
	n := (xc*expLog2e + 0x1.8p23) - 0x1.8p23
	r := fma32(-n, expLn2Hi, xc)
	r = fma32(-n, expLn2Lo, r)
	p := fma32(expP0, r, expP1)
	p = fma32(p, r, expP2)
	p = fma32(p, r, expP3)
	p = fma32(p, r, expP4)
	p = fma32(p, r, expP5)
	p = fma32(p, r, 1)
	p = fma32(p, r, 1)
	a := int32(n) >> 1
	b := int32(n) - a
	p *= math.Float32frombits(uint32(a+127) << 23)
	return p * math.Float32frombits(uint32(b+127)<<23)
}

// fma32 is a*b+c rounded once to float32 in all but rare double-rounding
// cases: a*b is exact in float64, so only the add and the conversion round.
func fma32(a, b, c float32) float32 {
	return float32(float64(a)*float64(b) + float64(c))
}

// softmaxGeneric computes dst = exp(x - max(x)) / sum(exp(x - max(x))) over one row.
// expSubGeneric computes dst[i] = exp(x[i] - m) for i < len(dst) and
// returns sum(dst[i]).
func expSubGeneric(dst, x []float32, m float32) float32 {
	x = x[:len(dst)]
	var s float32
	for i, v := range x {
		e := expPoly(v - m)
		dst[i] = e
		s += e
	}
	return s
}

// expSumsGeneric returns s = sum(exp(x[i] - m)) and
// sx = sum(exp(x[i] - m)*(x[i] - m)).
func expSumsGeneric(x []float32, m float32) (s, sx float32) {
	for _, v := range x {
		e := expPoly(v - m)
		s += e
		sx += e * (v - m)
	}
	return s, sx
}

func softmaxGeneric(dst, x []float32) {
	x = x[:len(dst)]
	m := maxGeneric(x)
	var s float32
	for i, v := range x {
		e := expPoly(v - m)
		dst[i] = e
		s += e
	}
	inv := 1 / s
	for i := range dst {
		dst[i] *= inv
	}
}

// logSoftmaxGeneric computes dst[i] = x[i] - max(x) - log(sum(exp(x - max(x)))).
func logSoftmaxGeneric(dst, x []float32) {
	x = x[:len(dst)]
	m := maxGeneric(x)
	var s float32
	for _, v := range x {
		s += expPoly(v - m)
	}
	lse := logSumExp(m, s)
	for i, v := range x {
		dst[i] = v - lse
	}
}

// entropyGeneric returns the Shannon entropy in nats of softmax(x).
func entropyGeneric(x []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	m := maxGeneric(x)
	var s, sx float32
	for _, v := range x {
		e := expPoly(v - m)
		s += e
		sx += e * (v - m)
	}
	return entropyOf(s, sx)
}

// logSumExp returns log(sum(exp(x))) = m + log(s) from m = max(x) and
// s = sum(exp(x - m)).
func logSumExp(m, s float32) float32 {
	return m + float32(math.Log(float64(s)))
}

// entropyOf returns H = log s - sx/s from s = sum(exp(x - m)) and
// sx = sum(exp(x - m)*(x - m)), both relative to the max for stability.
func entropyOf(s, sx float32) float32 {
	h := float32(math.Log(float64(s))) - sx/s
	if h < 0 {
		h = 0 // rounding on a one-hot row
	}
	return h
}

// rmsNormGeneric computes dst[i] = x[i] * r * w[i] with r = 1/sqrt(mean(x^2) + eps).
func rmsNormGeneric(dst, x, w []float32, eps float32) float32 {
	x, w = x[:len(dst)], w[:len(dst)]
	var ss float32
	for _, v := range x {
		ss += v * v
	}
	r := rmsScale(ss, len(x), eps)
	for i, v := range x {
		dst[i] = v * r * w[i]
	}
	return r
}

// rmsScale returns r = 1/sqrt(ss/n + eps) from ss = sum(x[i]^2) over n elements.
func rmsScale(ss float32, n int, eps float32) float32 {
	return float32(1 / math.Sqrt(float64(ss/float32(n)+eps)))
}

// siluGeneric computes dst[i] = x[i] / (1 + exp(-x[i])) for i < len(dst).
func siluGeneric(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = v / (1 + expPoly(-v))
	}
}
