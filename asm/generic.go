package asm

import "math"

func dotGeneric(x, y []float32) float32 {
	y = y[:len(x)]
	var s float32
	for i, v := range x {
		s += v * y[i]
	}
	return s
}

func axpyGeneric(alpha float32, x, y []float32) {
	y = y[:len(x)]
	for i, v := range x {
		y[i] += alpha * v
	}
}

func scaleGeneric(alpha float32, x []float32) {
	for i := range x {
		x[i] *= alpha
	}
}

func addGeneric(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] + b[i]
	}
}

func mulGeneric(dst, a, b []float32) {
	a, b = a[:len(dst)], b[:len(dst)]
	for i := range dst {
		dst[i] = a[i] * b[i]
	}
}

func sumGeneric(x []float32) float32 {
	var s float32
	for _, v := range x {
		s += v
	}
	return s
}

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

func expGeneric(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = exp32(v)
	}
}

// exp32 is the scalar reference of the vector exp kernels: exp(x) in float64
// rounded to float32, with the kernels' range rules.
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

func softmaxGeneric(dst, x []float32) {
	x = x[:len(dst)]
	m := maxGeneric(x)
	var s float32
	for i, v := range x {
		e := exp32(v - m)
		dst[i] = e
		s += e
	}
	inv := 1 / s
	for i := range dst {
		dst[i] *= inv
	}
}

func logSoftmaxGeneric(dst, x []float32) {
	x = x[:len(dst)]
	m := maxGeneric(x)
	var s float32
	for _, v := range x {
		s += exp32(v - m)
	}
	lse := m + float32(math.Log(float64(s)))
	for i, v := range x {
		dst[i] = v - lse
	}
}

func entropyGeneric(x []float32) float32 {
	if len(x) == 0 {
		return 0
	}
	m := maxGeneric(x)
	var s, sx float32
	for _, v := range x {
		e := exp32(v - m)
		s += e
		sx += e * (v - m)
	}
	// H = log s - sum(e*(x-m))/s, both relative to the max for stability.
	h := float32(math.Log(float64(s))) - sx/s
	if h < 0 {
		h = 0 // rounding on a one-hot row
	}
	return h
}

func rmsNormGeneric(dst, x, w []float32, eps float32) float32 {
	x, w = x[:len(dst)], w[:len(dst)]
	var ss float32
	for _, v := range x {
		ss += v * v
	}
	r := float32(1 / math.Sqrt(float64(ss/float32(len(x))+eps)))
	for i, v := range x {
		dst[i] = v * r * w[i]
	}
	return r
}

func siluGeneric(dst, x []float32) {
	x = x[:len(dst)]
	for i, v := range x {
		dst[i] = v / (1 + exp32(-v))
	}
}
