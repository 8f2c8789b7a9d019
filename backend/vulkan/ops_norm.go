//go:build vulkan && cgo

package vulkan

import (
	"fmt"
	"math"

	"github.com/goarpo/arpo/backend"
)

// RMSNorm implements backend.Backend; x, out are (rows, cols), w is (cols),
// rstd is (rows).
func (b *Backend) RMSNorm(out, rstd, x, w backend.View, rows, cols int, eps float32) {
	if rows <= 0 || cols <= 0 {
		return
	}
	b.op()
	n := rows * cols
	ob, oo := b.view(out, n, true)
	rb, ro := b.view(rstd, rows, true)
	xb, xo := b.view(x, n, false)
	wb, wo := b.view(w, cols, false)
	b.dispatch("rmsnorm", []binding{ob, rb, xb, wb}, []uint32{uint32(rows), uint32(cols), oo, ro, xo, wo, f32(eps)},
		uint32(min(rows, maxGroups)), 1)
}

// RMSNormBackward implements backend.Backend; dx, dout, x are (rows, cols),
// dw, w are (cols), rstd is (rows); dx and dw accumulate.
func (b *Backend) RMSNormBackward(dx, dw, dout, x, w, rstd backend.View, rows, cols int) {
	if rows <= 0 || cols <= 0 {
		return
	}
	b.op()
	n := rows * cols
	dxb, dxo := b.view(dx, n, true)
	dwb, dwo := b.view(dw, cols, true)
	db, do := b.view(dout, n, false)
	xb, xo := b.view(x, n, false)
	wb, wo := b.view(w, cols, false)
	rb, ro := b.view(rstd, rows, false)
	b.dispatch("rmsnorm_backward_dx", []binding{dxb, db, xb, wb, rb},
		[]uint32{uint32(rows), uint32(cols), dxo, do, xo, wo, ro}, uint32(min(rows, maxGroups)), 1)
	b.dispatch("rmsnorm_backward_dw", []binding{dwb, db, xb, rb},
		[]uint32{uint32(rows), uint32(cols), dwo, do, xo, ro}, groups(cols, 256), 1)
}

// ropeKey identifies a cos/sin table.
type ropeKey struct {
	headDim int
	rope    backend.RoPEParams
}

// ropeTable is a device copy of cos and sin of p*rope.InvFreq(headDim)[j] for
// positions [0, n): cos at element p*half+j, sin n*half further.
type ropeTable struct {
	buf *Buffer
	n   int
}

// ropeMaxTable bounds the positions a table covers; larger positions get a
// per-call table of the rows' own angles.
const ropeMaxTable = 1 << 17

// ropeAngles computes the table rows of the given positions, in float64
// rounded once, as the CPU backend does: cos rows then sin rows.
func ropeAngles(pos []int32, headDim int, rope backend.RoPEParams) []float32 {
	half := headDim / 2
	invFreq := rope.InvFreq(headDim)
	out := make([]float32, 2*len(pos)*half)
	sin := out[len(pos)*half:]
	for i, p := range pos {
		for j, f := range invFreq {
			s, c := math.Sincos(float64(p) * f)
			out[i*half+j], sin[i*half+j] = float32(c), float32(s)
		}
	}
	return out
}

// ropeTableFor returns a device table covering positions [0, need).
func (b *Backend) ropeTableFor(headDim int, rope backend.RoPEParams, need int) *ropeTable {
	key := ropeKey{headDim, rope}
	t := b.rope[key]
	if t != nil && t.n >= need {
		return t
	}
	n := max(need, 4096)
	if t != nil {
		n = max(n, 2*t.n)
		b.Free(t.buf)
	}
	n = min(n, ropeMaxTable)
	pos := make([]int32, n)
	for i := range pos {
		pos[i] = int32(i)
	}
	nt := &ropeTable{buf: b.Alloc(n * headDim).(*Buffer), n: n}
	b.Write(backend.Whole(nt.buf), ropeAngles(pos, headDim, rope))
	b.rope[key] = nt
	return nt
}

// RoPE implements backend.Backend; x is (len(pos), heads*headDim).
func (b *Backend) RoPE(x backend.View, pos []int32, heads, headDim int, rope backend.RoPEParams) {
	b.ropeOp(x, pos, heads, headDim, rope, 1)
}

// RoPEBackward implements backend.Backend: the inverse rotation.
func (b *Backend) RoPEBackward(dx backend.View, pos []int32, heads, headDim int, rope backend.RoPEParams) {
	b.ropeOp(dx, pos, heads, headDim, rope, -1)
}

func (b *Backend) ropeOp(x backend.View, pos []int32, heads, headDim int, rope backend.RoPEParams, sign float32) {
	if len(pos) == 0 || heads <= 0 {
		return
	}
	if headDim <= 0 || headDim%2 != 0 {
		panic(fmt.Sprintf("vulkan: RoPE head dimension %d must be even and positive", headDim))
	}
	if err := rope.Validate(); err != nil {
		panic("vulkan: " + err.Error())
	}
	maxPos := 0
	for i, p := range pos {
		if p < 0 {
			panic(fmt.Sprintf("vulkan: RoPE position %d at row %d is negative", p, i))
		}
		maxPos = max(maxPos, int(p))
	}
	b.op()
	half := headDim / 2
	var tab binding
	var cOff, sOff uint32
	idx := pos
	if maxPos < ropeMaxTable {
		t := b.ropeTableFor(headDim, rope, maxPos+1)
		tab, cOff = b.bindView(t.buf, 0, t.n*headDim, false)
		sOff = cOff + uint32(t.n*half)
	} else {
		// Positions past any table: upload this call's own angles, indexed
		// by row.
		s, err := b.stage(len(pos) * headDim * 4)
		if err != nil {
			b.err = err
			return
		}
		copy(s.floats(), ropeAngles(pos, headDim, rope))
		tab, cOff, sOff = bindStaged(s), 0, uint32(len(pos)*half)
		idx = make([]int32, len(pos))
		for i := range idx {
			idx[i] = int32(i)
		}
	}
	total := len(pos) * heads * half
	xb, xo := b.view(x, len(pos)*heads*headDim, true)
	pb, ok := b.stageInts(idx)
	if !ok {
		return
	}
	b.dispatch("rope", []binding{xb, tab, pb}, []uint32{uint32(total), uint32(heads), uint32(half), xo, cOff, sOff, 0, f32(sign)},
		groups(total, 256), 1)
}
