package tensor

import (
	"fmt"

	"github.com/goarpo/arpo/backend"
)

// Matrix views: a Tensor of rank >= 2 is treated as (rows, cols) with cols
// its last dimension; a rank-1 tensor is a single row.
func (t *Tensor) rowsCols() (int, int) {
	if len(t.shape) == 0 {
		return 1, 1
	}
	c := t.shape[len(t.shape)-1]
	if c == 0 {
		return 0, 0
	}
	return t.Len() / c, c
}

// MatMul computes c = alpha * op(a) * op(b) + beta * c through the backend's
// Gemm. op(a) is (m, k): a is (m, k), or (k, m) when transA. op(b) is (k, n):
// b is (k, n), or (n, k) when transB. c is (m, n). beta = 1 accumulates
// (gradients), beta = 0 overwrites. When any of a, b, c has Precision BF16
// the product runs on the backend's GemmBF16 (operands rounded to bf16,
// float32 sums); it panics if the backend has none.
func MatMul(c, a, b *Tensor, transA, transB bool, alpha, beta float32) {
	ar, ac := a.rowsCols()
	br, bc := b.rowsCols()
	cr, cc := c.rowsCols()
	m, k := ar, ac
	if transA {
		m, k = ac, ar
	}
	kb, n := br, bc
	if transB {
		kb, n = bc, br
	}
	if k != kb || m != cr || n != cc {
		panic(fmt.Sprintf("tensor: MatMul shapes: a %v (T=%v), b %v (T=%v), c %v", a.shape, transA, b.shape, transB, c.shape))
	}
	if a.prec == BF16 || b.prec == BF16 || c.prec == BF16 {
		bf, ok := c.B.(backend.BF16)
		if !ok {
			panic(fmt.Sprintf("tensor: MatMul in bf16 on the %s backend, which has no GemmBF16", c.B.Name()))
		}
		bf.GemmBF16(transA, transB, m, n, k, alpha, a.View(), ac, b.View(), bc, beta, c.View(), cc)
		return
	}
	c.B.Gemm(transA, transB, m, n, k, alpha, a.View(), ac, b.View(), bc, beta, c.View(), cc)
}

// Linear computes y = x * w^T (+ bias): x is (T, in), w is (out, in) as in
// PyTorch's nn.Linear, bias is (out) or nil, y is (T, out).
func Linear(y, x, w, bias *Tensor) {
	MatMul(y, x, w, false, true, 1, 0)
	if bias != nil {
		r, c := y.rowsCols()
		y.B.AddBias(y.View(), bias.View(), r, c)
	}
}

// LinearBackward accumulates the gradients of Linear: dx += dy * w (when dx
// is not nil), dw += dy^T * x, dbias += column sums of dy (when dbias is not
// nil). dy is (T, out).
func LinearBackward(dx, dw, dbias, dy, x, w *Tensor) {
	if dx != nil {
		MatMul(dx, dy, w, false, false, 1, 1)
	}
	MatMul(dw, dy, x, true, false, 1, 1)
	if dbias != nil {
		r, c := dy.rowsCols()
		dy.B.SumRows(dbias.View(), dy.View(), r, c)
	}
}

func sameLen(op string, ts ...*Tensor) int {
	n := ts[0].Len()
	for _, t := range ts[1:] {
		if t.Len() != n {
			panic(fmt.Sprintf("tensor: %s: lengths differ: %v vs %v", op, ts[0].shape, t.shape))
		}
	}
	return n
}

// Add sets dst = a + b elementwise; dst may alias a or b.
func Add(dst, a, b *Tensor) {
	n := sameLen("Add", dst, a, b)
	dst.B.Add(dst.View(), a.View(), b.View(), n)
}

// Mul sets dst = a * b elementwise; dst may alias a or b.
func Mul(dst, a, b *Tensor) {
	n := sameLen("Mul", dst, a, b)
	dst.B.Mul(dst.View(), a.View(), b.View(), n)
}

// Copy sets dst = src.
func Copy(dst, src *Tensor) {
	n := sameLen("Copy", dst, src)
	dst.B.Copy(dst.View(), src.View(), n)
}

// Axpy sets y += alpha * x.
func Axpy(alpha float32, x, y *Tensor) {
	n := sameLen("Axpy", x, y)
	y.B.Axpy(alpha, x.View(), y.View(), n)
}

// Scale multiplies t by alpha in place.
func (t *Tensor) Scale(alpha float32) { t.B.Scale(t.View(), alpha, t.Len()) }

// Fill sets every element to v.
func (t *Tensor) Fill(v float32) { t.B.Fill(t.View(), v, t.Len()) }

// Zero sets every element to 0.
func (t *Tensor) Zero() { t.Fill(0) }

// SumSquares returns the sum of the squared elements; it synchronises.
func (t *Tensor) SumSquares() (float32, error) { return t.B.SumSquares(t.View(), t.Len()) }
