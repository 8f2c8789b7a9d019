package cpu

import (
	"math"
	"testing"
)

// rmsNormRef is out = x*r*w with r = 1/sqrt(mean(x^2)+eps), in float64; x is
// (rows, cols), w is (cols).
func rmsNormRef(x, w []float64, rows, cols int, eps float64) (out, rstd []float64) {
	out, rstd = make([]float64, rows*cols), make([]float64, rows)
	for r := 0; r < rows; r++ {
		var ss float64
		for _, v := range x[r*cols : (r+1)*cols] {
			ss += v * v
		}
		rstd[r] = 1 / math.Sqrt(ss/float64(cols)+eps)
		for j := 0; j < cols; j++ {
			out[r*cols+j] = x[r*cols+j] * rstd[r] * w[j]
		}
	}
	return out, rstd
}

func TestRMSNorm(t *testing.T) {
	c := New(3)
	rng := newRNG(5)
	for _, sh := range [][2]int{{1, 1}, {3, 17}, {300, 100}} {
		rows, cols := sh[0], sh[1]
		x, w := randVec(rng, rows*cols, 3), randVec(rng, cols, 1)
		out, rstd := buf(make([]float32, rows*cols)), buf(make([]float32, rows))
		c.RMSNorm(out, rstd, buf(x), buf(w), rows, cols, 1e-5)
		wantOut, wantR := rmsNormRef(to64(x), to64(w), rows, cols, 1e-5)
		requireClose(t, wantOut, data(out), 2e-6, "rmsnorm out")
		requireClose(t, wantR, data(rstd), 2e-6, "rmsnorm rstd")

		// In place: out aliasing x.
		vx := buf(x)
		c.RMSNorm(vx, rstd, vx, buf(w), rows, cols, 1e-5)
		requireClose(t, wantOut, data(vx), 2e-6, "rmsnorm in place")
	}
}

func TestRMSNormBackward(t *testing.T) {
	c := New(2)
	rng := newRNG(6)
	const rows, cols, eps = 4, 9, 1e-5
	x, w, d := randVec(rng, rows*cols, 2), randVec(rng, cols, 1), randVec(rng, rows*cols, 1)
	x64, w64 := to64(x), to64(w)
	loss := func() float64 {
		out, _ := rmsNormRef(x64, w64, rows, cols, eps)
		return dot64(out, d)
	}
	wantDX, wantDW := numGrad(x64, loss), numGrad(w64, loss)

	out, rstd := buf(make([]float32, rows*cols)), buf(make([]float32, rows))
	c.RMSNorm(out, rstd, buf(x), buf(w), rows, cols, eps)
	// The op accumulates: start both gradients from ones.
	ones := func(n int) []float32 {
		o := make([]float32, n)
		for i := range o {
			o[i] = 1
		}
		return o
	}
	dx, dw := buf(ones(rows*cols)), buf(ones(cols))
	c.RMSNormBackward(dx, dw, buf(d), buf(x), buf(w), rstd, rows, cols)
	for i := range wantDX {
		wantDX[i]++
	}
	for i := range wantDW {
		wantDW[i]++
	}
	requireClose(t, wantDX, data(dx), 1e-5, "rmsnorm dx")
	requireClose(t, wantDW, data(dw), 1e-5, "rmsnorm dw")
}
