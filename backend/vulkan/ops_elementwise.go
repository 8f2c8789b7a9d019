//go:build vulkan && cgo

package vulkan

import (
	"fmt"
	"math"
	"strconv"

	"github.com/goarpo/arpo/backend"
)

// maxGroups bounds a dispatch dimension: the minimum every Vulkan device
// supports. Shaders loop over the elements (or rows) beyond it.
const maxGroups = 65535

// groups returns the number of work groups of size wg covering n items.
func groups(n, wg int) uint32 { return uint32(min((n+wg-1)/wg, maxGroups)) }

func f32(x float32) uint32 { return math.Float32bits(x) }

// stageInts uploads host integers (ids, positions, tables) for the batch.
func (b *Backend) stageInts(xs []int32) (binding, bool) {
	s, err := b.stage(len(xs) * 4)
	if err != nil {
		b.err = err
		return binding{}, false
	}
	copy(s.ints(), xs)
	return bindStaged(s), true
}

// Copy implements backend.Backend; dst and src are (n).
func (b *Backend) Copy(dst, src backend.View, n int) {
	if n <= 0 {
		return
	}
	b.op()
	d, do := b.view(dst, n, true)
	s, so := b.view(src, n, false)
	b.dispatch("copy", []binding{d, s}, []uint32{uint32(n), do, so}, groups(n, 256), 1)
}

// Fill implements backend.Backend; dst is (n).
func (b *Backend) Fill(dst backend.View, v float32, n int) {
	if n <= 0 {
		return
	}
	b.op()
	d, do := b.view(dst, n, true)
	b.dispatch("fill", []binding{d}, []uint32{uint32(n), do, f32(v)}, groups(n, 256), 1)
}

func (b *Backend) binary(dst, x, y backend.View, n int, mode uint32) {
	if n <= 0 {
		return
	}
	b.op()
	d, do := b.view(dst, n, true)
	xb, xo := b.view(x, n, false)
	yb, yo := b.view(y, n, false)
	b.dispatch("binary", []binding{d, xb, yb}, []uint32{uint32(n), do, xo, yo, mode}, groups(n, 256), 1)
}

// Add implements backend.Backend; all views are (n).
func (b *Backend) Add(dst, x, y backend.View, n int) { b.binary(dst, x, y, n, 0) }

// Mul implements backend.Backend; all views are (n).
func (b *Backend) Mul(dst, x, y backend.View, n int) { b.binary(dst, x, y, n, 1) }

// Scale implements backend.Backend; x is (n).
func (b *Backend) Scale(x backend.View, alpha float32, n int) {
	if n <= 0 {
		return
	}
	b.op()
	xb, xo := b.view(x, n, true)
	b.dispatch("scale", []binding{xb}, []uint32{uint32(n), xo, f32(alpha)}, groups(n, 256), 1)
}

// Axpy implements backend.Backend; x and y are (n).
func (b *Backend) Axpy(alpha float32, x, y backend.View, n int) {
	if n <= 0 {
		return
	}
	b.op()
	yb, yo := b.view(y, n, true)
	xb, xo := b.view(x, n, false)
	b.dispatch("axpy", []binding{yb, xb}, []uint32{uint32(n), yo, xo, f32(alpha)}, groups(n, 256), 1)
}

// AddBias implements backend.Backend; x is (rows, cols), bias is (cols).
func (b *Backend) AddBias(x, bias backend.View, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	b.op()
	n := rows * cols
	xb, xo := b.view(x, n, true)
	bb, bo := b.view(bias, cols, false)
	b.dispatch("add_bias", []binding{xb, bb}, []uint32{uint32(n), uint32(cols), xo, bo}, groups(n, 256), 1)
}

// SumRows implements backend.Backend; x is (rows, cols), dst is (cols) and
// accumulates.
func (b *Backend) SumRows(dst, x backend.View, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	b.op()
	db, do := b.view(dst, cols, true)
	xb, xo := b.view(x, rows*cols, false)
	b.dispatch("sum_rows", []binding{db, xb}, []uint32{uint32(rows), uint32(cols), do, xo}, groups(cols, 256), 1)
}

// sumSquaresParts is the most partial sums of SumSquares' first pass.
const sumSquaresParts = 256

// SumSquares implements backend.Backend; x is (n). Work groups sum chunks
// of at least 4096 elements; one more work group sums their partials.
func (b *Backend) SumSquares(x backend.View, n int) (float32, error) {
	if n <= 0 {
		return 0, b.Sync()
	}
	b.op()
	if b.scratch == nil {
		b.scratch = b.Alloc(sumSquaresParts + 1).(*Buffer)
	}
	chunk := alignUp(max((n+sumSquaresParts-1)/sumSquaresParts, 4096), 256)
	parts := (n + chunk - 1) / chunk
	xb, xo := b.view(x, n, false)
	pb, po := b.bindView(b.scratch, 0, sumSquaresParts+1, true)
	b.dispatch("sum_squares", []binding{pb, xb}, []uint32{uint32(n), xo, po, uint32(chunk), 0}, uint32(parts), 1)
	b.dispatch("sum_squares", []binding{pb, xb}, []uint32{uint32(parts), xo, po, 0, 1}, 1, 1)
	out := make([]float32, 1)
	if err := b.Read(out, backend.View{Buf: b.scratch, Off: parts}); err != nil {
		return 0, err
	}
	return out[0], nil
}

// SwiGLU implements backend.Backend; out, gate, up are (n).
func (b *Backend) SwiGLU(out, gate, up backend.View, n int) {
	if n <= 0 {
		return
	}
	b.op()
	ob, oo := b.view(out, n, true)
	gb, gOff := b.view(gate, n, false)
	ub, uo := b.view(up, n, false)
	b.dispatch("swiglu", []binding{ob, gb, ub}, []uint32{uint32(n), oo, gOff, uo}, groups(n, 256), 1)
}

// SwiGLUBackward implements backend.Backend; all views are (n).
func (b *Backend) SwiGLUBackward(dgate, dup, dout, gate, up backend.View, n int) {
	if n <= 0 {
		return
	}
	b.op()
	dgb, dgo := b.view(dgate, n, true)
	dub, duo := b.view(dup, n, true)
	db, do := b.view(dout, n, false)
	gb, gOff := b.view(gate, n, false)
	ub, uo := b.view(up, n, false)
	b.dispatch("swiglu_backward", []binding{dgb, dub, db, gb, ub},
		[]uint32{uint32(n), dgo, duo, do, gOff, uo}, groups(n, 256), 1)
}

// AdamW implements backend.Backend; p, g, m, v are (n). The scalar factors
// are computed as the CPU backend computes them (float64 from the
// hyperparameters' shortest decimal forms, rounded once).
func (b *Backend) AdamW(p, g, m, v backend.View, n int, lr, b1, b2, eps, wd float32, t int) {
	if t < 1 {
		panic(fmt.Sprintf("vulkan: AdamW step %d; steps count from 1", t))
	}
	if n <= 0 {
		return
	}
	b.op()
	lr64, b164, b264, wd64 := decimal64(lr), decimal64(b1), decimal64(b2), decimal64(wd)
	decay := float32(1 - lr64*wd64)
	c1, c2 := float32(1-b164), float32(1-b264)
	stepNeg := float32(-lr64 / (1 - math.Pow(b164, float64(t))))
	bc2Sqrt := float32(math.Sqrt(1 - math.Pow(b264, float64(t))))
	pb, po := b.view(p, n, true)
	gb, gOff := b.view(g, n, false)
	mb, mo := b.view(m, n, true)
	vb, vo := b.view(v, n, true)
	b.dispatch("adamw", []binding{pb, gb, mb, vb}, []uint32{uint32(n), po, gOff, mo, vo,
		f32(decay), f32(float32(b164)), f32(float32(b264)), f32(c1), f32(c2), f32(stepNeg), f32(bc2Sqrt), f32(eps)},
		groups(n, 256), 1)
}

// decimal64 returns the float64 nearest to the shortest decimal that reads
// back as x, e.g. 0.9 for float32(0.9): the Python float PyTorch would get.
func decimal64(x float32) float64 {
	d, err := strconv.ParseFloat(strconv.FormatFloat(float64(x), 'g', -1, 32), 64)
	if err != nil { // unreachable: FormatFloat output always parses
		return float64(x)
	}
	return d
}
