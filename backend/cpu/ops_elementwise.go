package cpu

import (
	"math"
	"slices"

	"github.com/goarpo/arpo/asm"
	"github.com/goarpo/arpo/backend"
)

// elemGrain is the number of elements one piece of an elementwise op covers:
// large enough that the pool's hand-off cost is noise, small enough that
// a few pieces exist for vectors of a few hundred thousand elements.
const elemGrain = 1 << 14

// rowGrain returns how many rows of cols elements one piece of a row-wise
// op covers, so that each piece is about elemGrain elements. It depends only
// on the shape, never on the thread count.
func rowGrain(cols int) int {
	return max(1, elemGrain/max(cols, 1))
}

// Copy implements backend.Backend. Overlapping ranges of one buffer are
// copied as by copy(), serially.
func (c *CPU) Copy(dst, src backend.View, n int) {
	if n <= 0 {
		return
	}
	d, s := slice(dst, n), slice(src, n)
	if dst.Buf == src.Buf && dst.Off < src.Off+n && src.Off < dst.Off+n {
		copy(d, s)
		return
	}
	c.pool.chunks(n, elemGrain, func(lo, hi int) { copy(d[lo:hi], s[lo:hi]) })
}

// Fill implements backend.Backend.
func (c *CPU) Fill(dst backend.View, v float32, n int) {
	if n <= 0 {
		return
	}
	d := slice(dst, n)
	c.pool.chunks(n, elemGrain, func(lo, hi int) {
		part := d[lo:hi]
		for i := range part {
			part[i] = v
		}
	})
}

// Add implements backend.Backend; dst, a, b are (n).
func (c *CPU) Add(dst, a, b backend.View, n int) {
	if n <= 0 {
		return
	}
	d, x, y := slice(dst, n), slice(a, n), slice(b, n)
	c.pool.chunks(n, elemGrain, func(lo, hi int) { asm.Add(d[lo:hi], x[lo:hi], y[lo:hi]) })
}

// Mul implements backend.Backend; dst, a, b are (n).
func (c *CPU) Mul(dst, a, b backend.View, n int) {
	if n <= 0 {
		return
	}
	d, x, y := slice(dst, n), slice(a, n), slice(b, n)
	c.pool.chunks(n, elemGrain, func(lo, hi int) { asm.Mul(d[lo:hi], x[lo:hi], y[lo:hi]) })
}

// Scale implements backend.Backend; x is (n).
func (c *CPU) Scale(x backend.View, alpha float32, n int) {
	if n <= 0 {
		return
	}
	d := slice(x, n)
	c.pool.chunks(n, elemGrain, func(lo, hi int) { asm.Scale(alpha, d[lo:hi]) })
}

// Axpy implements backend.Backend; x, y are (n).
func (c *CPU) Axpy(alpha float32, x, y backend.View, n int) {
	if n <= 0 {
		return
	}
	xs, ys := slice(x, n), slice(y, n)
	c.pool.chunks(n, elemGrain, func(lo, hi int) { asm.Axpy(alpha, xs[lo:hi], ys[lo:hi]) })
}

// AddBias implements backend.Backend; x is (rows, cols), bias is (cols).
func (c *CPU) AddBias(x, bias backend.View, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	xs, bs := slice(x, rows*cols), slice(bias, cols)
	c.pool.chunks(rows, rowGrain(cols), func(lo, hi int) {
		for r := lo; r < hi; r++ {
			row := xs[r*cols : (r+1)*cols]
			asm.Add(row, row, bs)
		}
	})
}

// colGrain is the number of columns one piece of a column-parallel
// reduction covers. Splitting by columns lets every output element be summed
// over rows in row order by exactly one piece, so the result equals the
// serial loop's bit for bit whatever the thread count.
const colGrain = 256

// SumRows implements backend.Backend; x is (rows, cols), dst is (cols) and
// accumulates the column sums, each summed in row order.
func (c *CPU) SumRows(dst, x backend.View, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	ds, xs := slice(dst, cols), slice(x, rows*cols)
	c.pool.chunks(cols, colGrain, func(lo, hi int) {
		acc := make([]float32, hi-lo)
		for r := 0; r < rows; r++ {
			asm.Add(acc, acc, xs[r*cols+lo:r*cols+hi])
		}
		asm.Add(ds[lo:hi], ds[lo:hi], acc)
	})
}

// SumSquares implements backend.Backend; x is (n). Pieces of elemGrain
// elements are summed in float32 by asm.Dot, then the partials in float64
// in piece order.
func (c *CPU) SumSquares(x backend.View, n int) (float32, error) {
	if n <= 0 {
		return 0, nil
	}
	xs := slice(x, n)
	parts := make([]float32, (n+elemGrain-1)/elemGrain)
	c.pool.chunks(n, elemGrain, func(lo, hi int) {
		parts[lo/elemGrain] = asm.Dot(xs[lo:hi], xs[lo:hi])
	})
	var s float64
	for _, p := range parts {
		s += float64(p)
	}
	if s > math.MaxFloat32 {
		return float32(math.Inf(1)), nil
	}
	return float32(s), nil
}

// SwiGLU implements backend.Backend; out, gate, up are (n). out may alias
// gate or up.
func (c *CPU) SwiGLU(out, gate, up backend.View, n int) {
	if n <= 0 {
		return
	}
	o, g, u := slice(out, n), slice(gate, n), slice(up, n)
	c.pool.chunks(n, elemGrain, func(lo, hi int) {
		// silu goes to scratch first: writing it into o would clobber up
		// when out aliases up.
		var buf [elemBlock]float32
		for b0 := lo; b0 < hi; b0 += elemBlock {
			b1 := min(b0+elemBlock, hi)
			tmp := buf[:b1-b0]
			asm.SiLU(tmp, g[b0:b1])
			asm.Mul(o[b0:b1], tmp, u[b0:b1])
		}
	})
}

// SwiGLUBackward implements backend.Backend; all views are (n). With
// s = sigmoid(gate): dup = dout*gate*s and
// dgate = dout*up*s*(1 + gate*(1-s)). dgate and dup may alias any input.
func (c *CPU) SwiGLUBackward(dgate, dup, dout, gate, up backend.View, n int) {
	if n <= 0 {
		return
	}
	dg, du := slice(dgate, n), slice(dup, n)
	d, g, u := slice(dout, n), slice(gate, n), slice(up, n)
	c.pool.chunks(n, elemGrain, func(lo, hi int) {
		var buf [elemBlock]float32
		for b0 := lo; b0 < hi; b0 += elemBlock {
			e := buf[:min(b0+elemBlock, hi)-b0]
			gb := g[b0 : b0+len(e)]
			for i, gi := range gb {
				e[i] = -gi
			}
			asm.Exp(e, e)
			ub, db := u[b0:b0+len(e)], d[b0:b0+len(e)]
			dgb, dub := dg[b0:b0+len(e)], du[b0:b0+len(e)]
			for i, ei := range e {
				// Read every input of element i before writing its outputs,
				// so that aliased views see consistent values.
				gk, uk, dk := gb[i], ub[i], db[i]
				s := 1 / (1 + ei)
				dgb[i] = dk * uk * s * (1 + gk*(1-s))
				dub[i] = dk * gk * s
			}
		}
	})
}

// Supports implements backend.Backend: the CPU backend implements every op,
// those of backend.BF16 and backend.BF16KV included.
func (c *CPU) Supports(op backend.Op) bool {
	return slices.Contains(backend.AllOps, op) || slices.Contains(backend.BF16Ops, op) || slices.Contains(backend.BF16KVOps, op)
}
