package tensor

import (
	"testing"

	"github.com/goarpo/arpo/backend"
	_ "github.com/goarpo/arpo/backend/cpu"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func cpuBackend(t *testing.T) backend.Backend {
	b, err := backend.Open("cpu", backend.Options{Threads: 1})
	require.NoError(t, err)
	return b
}

func data(t *testing.T, x *Tensor) []float32 {
	d, err := x.Data()
	require.NoError(t, err)
	return d
}

func TestShapesViewsAndReshape(t *testing.T) {
	b := cpuBackend(t)
	x := FromSlice(b, []float32{1, 2, 3, 4, 5, 6}, 3, 2)
	assert.Equal(t, []int{3, 2}, x.Shape())
	assert.Equal(t, []int{2, 1}, x.Strides())
	assert.Equal(t, 2, x.Dim(-1))

	r := x.Rows(1, 3)
	assert.Equal(t, []float32{3, 4, 5, 6}, data(t, r))
	r.Scale(10) // a view writes through to its parent
	assert.Equal(t, []float32{1, 2, 30, 40, 50, 60}, data(t, x))

	y := x.Reshape(-1, 3)
	assert.Equal(t, []int{2, 3}, y.Shape())
	assert.Equal(t, []int{3, 1}, y.Strides())
	assert.Panics(t, func() { x.Reshape(4, -1) })
	assert.Panics(t, func() { x.Rows(2, 4) })
	assert.Panics(t, func() { FromSlice(b, []float32{1}, 2) })
}

func TestMatMulTransposes(t *testing.T) {
	b := cpuBackend(t)
	a := FromSlice(b, []float32{1, 2, 3, 4, 5, 6}, 2, 3)          // (2, 3)
	w := FromSlice(b, []float32{1, 0, 1, 0, 1, 1, 2, 2, 0}, 3, 3) // (3, 3)
	c := New(b, 2, 3)
	MatMul(c, a, w, false, false, 1, 0)
	assert.Equal(t, []float32{7, 8, 3, 16, 17, 9}, data(t, c))
	// a^T a is (3, 3).
	g := New(b, 3, 3)
	MatMul(g, a, a, true, false, 1, 0)
	assert.Equal(t, []float32{17, 22, 27, 22, 29, 36, 27, 36, 45}, data(t, g))
	// Accumulating with beta = 1.
	MatMul(c, a, w, false, true, 1, 1) // a * w^T = [[4,5,6],[10,11,18]]
	assert.Equal(t, []float32{11, 13, 9, 26, 28, 27}, data(t, c))
	assert.Panics(t, func() { MatMul(c, a, a, false, false, 1, 0) })
}

func TestLinearAndBackward(t *testing.T) {
	b := cpuBackend(t)
	x := FromSlice(b, []float32{1, 2, 3, 4}, 2, 2)       // (T=2, in=2)
	w := FromSlice(b, []float32{1, 0, 0, 1, 1, 1}, 3, 2) // (out=3, in=2)
	bias := FromSlice(b, []float32{0.5, 0, -1}, 3)
	y := New(b, 2, 3)
	Linear(y, x, w, bias)
	assert.Equal(t, []float32{1.5, 2, 2, 3.5, 4, 6}, data(t, y))

	dy := FromSlice(b, []float32{1, 0, 1, 0, 1, 0}, 2, 3)
	dx, dw, db := New(b, 2, 2), New(b, 3, 2), New(b, 3)
	LinearBackward(dx, dw, db, dy, x, w)
	assert.Equal(t, []float32{2, 1, 0, 1}, data(t, dx))
	assert.Equal(t, []float32{1, 2, 3, 4, 1, 2}, data(t, dw))
	assert.Equal(t, []float32{1, 1, 1}, data(t, db))
}

func TestElementwise(t *testing.T) {
	b := cpuBackend(t)
	x := FromSlice(b, []float32{1, 2, 3}, 3)
	y := FromSlice(b, []float32{4, 5, 6}, 3)
	z := New(b, 3)
	Add(z, x, y)
	assert.Equal(t, []float32{5, 7, 9}, data(t, z))
	Mul(z, x, y)
	assert.Equal(t, []float32{4, 10, 18}, data(t, z))
	Axpy(2, x, z)
	assert.Equal(t, []float32{6, 14, 24}, data(t, z))
	Copy(z, x)
	assert.Equal(t, []float32{1, 2, 3}, data(t, z))
	ss, err := z.SumSquares()
	require.NoError(t, err)
	assert.Equal(t, float32(14), ss)
	z.Zero()
	assert.Equal(t, []float32{0, 0, 0}, data(t, z))
	assert.Panics(t, func() { Add(z, x, New(b, 2)) })
}
