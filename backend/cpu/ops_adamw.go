package cpu

import (
	"fmt"
	"math"
	"strconv"

	"github.com/goarpo/arpo/backend"
)

// AdamW implements backend.Backend; p, g, m, v are (n). It follows the
// operation order of PyTorch's torch.optim.AdamW (single-tensor path), with
// the scalar factors computed in float64 and rounded to float32 once, as
// PyTorch does when it multiplies a float32 tensor by a Python float:
//
//	p *= 1 - lr*wd
//	m = fma(1-b1, g, m*b1)
//	v = fma((1-b2)*g, g, v*b2)
//	p += (-lr/(1-b1^t)) * m / (sqrt(v)/sqrt(1-b2^t) + eps)
//
// The hyperparameters are widened to float64 through their shortest decimal
// form (float32 0.9 becomes float64 0.9, not 0.899999976...), recovering the
// Python floats PyTorch would be given: 1-b1 then rounds to the same float32.
//
// PyTorch's AVX2 kernels fuse the moment updates into FMAs; emulating them
// (exactly: a product of two float32 is exact in float64) gave bitwise equal
// p, m and v to torch 1.13 on 65536 random elements. Every other step is
// rounded to float32 explicitly, so no compiler fuses more and results are
// the same on every architecture.
func (c *CPU) AdamW(p, g, m, v backend.View, n int, lr, b1, b2, eps, wd float32, t int) {
	if t < 1 {
		panic(fmt.Sprintf("cpu: AdamW step %d; steps count from 1", t))
	}
	if n <= 0 {
		return
	}
	ps, gs, ms, vs := slice(p, n), slice(g, n), slice(m, n), slice(v, n)
	lr64, b164, b264, wd64 := decimal64(lr), decimal64(b1), decimal64(b2), decimal64(wd)
	decay := float32(1 - lr64*wd64)
	fb1, fb2 := float32(b164), float32(b264)
	c1, c2 := float32(1-b164), float32(1-b264)
	stepNeg := float32(-lr64 / (1 - math.Pow(b164, float64(t))))
	bc2Sqrt := float32(math.Sqrt(1 - math.Pow(b264, float64(t))))
	c.pool.chunks(n, elemGrain, func(lo, hi int) {
		for i := lo; i < hi; i++ {
			gi := gs[i]
			pi := float32(ps[i] * decay)
			mi := fma32(c1, gi, ms[i]*fb1)
			vi := fma32(float32(c2*gi), gi, vs[i]*fb2)
			denom := float32(float32(math.Sqrt(float64(vi)))/bc2Sqrt) + eps
			ps[i] = pi + float32(stepNeg*mi)/denom
			ms[i], vs[i] = mi, vi
		}
	})
}

// decimal64 returns the float64 nearest to the shortest decimal that reads
// back as x, e.g. 0.9 for float32(0.9).
func decimal64(x float32) float64 {
	d, err := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
	if err != nil { // unreachable: FormatFloat output always parses
		return float64(x)
	}
	return d
}

// fma32 returns a*b+c rounded once to float32 (up to a double rounding that
// needs a float64 tie, which is vanishingly rare).
func fma32(a, b, c float32) float32 {
	return float32(float64(a)*float64(b) + float64(c))
}
