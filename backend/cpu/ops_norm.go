package cpu

import (
	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
)

// RMSNorm implements backend.Backend; x, out are (rows, cols), w is (cols),
// rstd is (rows). out may alias x.
func (c *CPU) RMSNorm(out, rstd, x, w backend.View, rows, cols int, eps float32) {
	if rows <= 0 || cols <= 0 {
		return
	}
	o, r, xs, ws := slice(out, rows*cols), slice(rstd, rows), slice(x, rows*cols), slice(w, cols)
	c.pool.chunks(rows, rowGrain(cols), func(lo, hi int) {
		for i := lo; i < hi; i++ {
			r[i] = asm.RMSNorm(o[i*cols:(i+1)*cols], xs[i*cols:(i+1)*cols], ws, eps)
		}
	})
}

// RMSNormBackward implements backend.Backend; dx, dout, x are (rows, cols),
// dw and w are (cols), rstd is (rows). With y = x*r*w, r = rstd:
//
//	dx += r*(dout*w) - r^3 * x * sum(dout*w*x)/cols
//	dw += sum over rows of dout*x*r
//
// dx rows are computed in parallel; dw in column pieces, each column summed
// in row order, so dw does not depend on the thread count.
func (c *CPU) RMSNormBackward(dx, dw, dout, x, w, rstd backend.View, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	n := rows * cols
	dxs, dws, ds, xs, ws, rs := slice(dx, n), slice(dw, cols), slice(dout, n), slice(x, n), slice(w, cols), slice(rstd, rows)
	c.pool.chunks(rows, rowGrain(cols), func(lo, hi int) {
		g := make([]float32, cols)
		for i := lo; i < hi; i++ {
			xi, di, dxi := xs[i*cols:(i+1)*cols], ds[i*cols:(i+1)*cols], dxs[i*cols:(i+1)*cols]
			r := rs[i]
			asm.Mul(g, di, ws)
			s := asm.Dot(g, xi)
			asm.Axpy(r, g, dxi)
			asm.Axpy(-r*r*r*s/float32(cols), xi, dxi)
		}
	})
	c.pool.chunks(cols, colGrain, func(lo, hi int) {
		acc := make([]float32, hi-lo)
		g := make([]float32, hi-lo)
		for i := 0; i < rows; i++ {
			asm.Mul(g, ds[i*cols+lo:i*cols+hi], xs[i*cols+lo:i*cols+hi])
			asm.Axpy(rs[i], g, acc)
		}
		asm.Add(dws[lo:hi], dws[lo:hi], acc)
	})
}
