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

// rmsPieces bounds the number of row pieces of RMSNormBackward, and so the
// partial dw sums it keeps (rmsPieces x cols).
const rmsPieces = 64

// RMSNormBackward implements backend.Backend; dx, dout, x are (rows, cols),
// dw and w are (cols), rstd is (rows). With y = x*r*w, r = rstd:
//
//	dx += r*(dout*w) - r^3 * x * sum(dout*w*x)/cols
//	dw += sum over rows of dout*x*r
//
// One pass over the rows does both: each row piece also sums its rows' dw
// terms in row order into a partial of its own, and the partials are added
// into dw in piece order. The pieces depend only on the shape, so dw does
// not depend on the thread count.
func (c *CPU) RMSNormBackward(dx, dw, dout, x, w, rstd backend.View, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	n := rows * cols
	dxs, dws, ds, xs, ws, rs := slice(dx, n), slice(dw, cols), slice(dout, n), slice(x, n), slice(w, cols), slice(rstd, rows)
	grain := max(rowGrain(cols), (rows+rmsPieces-1)/rmsPieces)
	pieces := (rows + grain - 1) / grain
	sp := getScratch(2 * pieces * cols)
	defer putScratch(sp)
	parts, gs := (*sp)[:pieces*cols], (*sp)[pieces*cols:]
	c.pool.run(pieces, func(pi int) {
		acc, g := parts[pi*cols:(pi+1)*cols], gs[pi*cols:(pi+1)*cols]
		clear(acc)
		for i := pi * grain; i < min((pi+1)*grain, rows); i++ {
			xi, di, dxi := xs[i*cols:(i+1)*cols], ds[i*cols:(i+1)*cols], dxs[i*cols:(i+1)*cols]
			r := rs[i]
			asm.Mul(g, di, ws)
			s := asm.Dot(g, xi)
			asm.Axpy(r, g, dxi)
			asm.Axpy(-r*r*r*s/float32(cols), xi, dxi)
			asm.Mul(g, di, xi)
			asm.Axpy(r, g, acc)
		}
	})
	c.pool.chunks(cols, colGrain, func(lo, hi int) {
		for pi := 0; pi < pieces; pi++ {
			asm.Add(dws[lo:hi], dws[lo:hi], parts[pi*cols+lo:pi*cols+hi])
		}
	})
}
