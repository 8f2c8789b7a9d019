// Package tensor is a thin, shape-aware handle on float32 storage that lives
// on a backend.Backend: one Tensor type (shape, row-major strides, a buffer
// and an offset), constructors, read-back, reshaping, row-slicing views and a
// few methods that forward to backend ops (MatMul -> Gemm, Add, Scale, ...).
//
// It is for the model code in nn/, which keeps its weights, gradients and
// activations as Tensors so the same code runs on the CPU and on a device
// backend.
//
// It is not an autograd engine and does no broadcasting: nn/ writes each
// backward by hand. Every Tensor is contiguous in row-major order (views are
// runs of whole rows), so a Tensor is always one backend.View plus a length.
package tensor

import (
	"fmt"

	"github.com/goarpo/arpo/backend"
)

// Tensor is a contiguous row-major float32 array on a backend. A Tensor made
// by Rows or Reshape shares storage with its parent.
type Tensor struct {
	B       backend.Backend
	buf     backend.Buffer
	off     int
	shape   []int
	strides []int
	prec    Precision // of the matrix products it takes part in; views inherit it
}

// New allocates a zeroed tensor of the given shape on b, e.g. New(b, 4, 128).
func New(b backend.Backend, shape ...int) *Tensor {
	n := numel(shape)
	return &Tensor{B: b, buf: b.Alloc(n), shape: clone(shape), strides: stridesOf(shape)}
}

// Zeros is New; the name reads better where zeros are what matters.
func Zeros(b backend.Backend, shape ...int) *Tensor { return New(b, shape...) }

// FromSlice allocates a tensor on b and copies data into it. len(data) must
// equal the product of shape.
func FromSlice(b backend.Backend, data []float32, shape ...int) *Tensor {
	if len(data) != numel(shape) {
		panic(fmt.Sprintf("tensor: FromSlice: %d values for shape %v", len(data), shape))
	}
	t := New(b, shape...)
	b.Write(t.View(), data)
	return t
}

// On wraps an existing region (buf from off, shape) as a tensor, for callers
// that carve many tensors out of one buffer (a model's parameters).
func On(b backend.Backend, buf backend.Buffer, off int, shape ...int) *Tensor {
	if off < 0 || off+numel(shape) > buf.Len() {
		panic(fmt.Sprintf("tensor: On: shape %v at %d does not fit a buffer of %d", shape, off, buf.Len()))
	}
	return &Tensor{B: b, buf: buf, off: off, shape: clone(shape), strides: stridesOf(shape)}
}

// Shape returns the tensor's shape; callers must not modify it.
func (t *Tensor) Shape() []int { return t.shape }

// Strides returns the row-major strides (elements) of each dimension.
func (t *Tensor) Strides() []int { return t.strides }

// Dim returns the size of dimension i; negative i counts from the end.
func (t *Tensor) Dim(i int) int {
	if i < 0 {
		i += len(t.shape)
	}
	return t.shape[i]
}

// Len is the number of elements.
func (t *Tensor) Len() int { return numel(t.shape) }

// View is the backend position of the first element.
func (t *Tensor) View() backend.View { return backend.View{Buf: t.buf, Off: t.off} }

// Buffer is the storage the tensor lives in (shared with its views).
func (t *Tensor) Buffer() backend.Buffer { return t.buf }

// Data reads the tensor back to the host; it waits for queued ops.
func (t *Tensor) Data() ([]float32, error) {
	out := make([]float32, t.Len())
	if err := t.B.Read(out, t.View()); err != nil {
		return nil, fmt.Errorf("tensor: read %v: %w", t.shape, err)
	}
	return out, nil
}

// Set copies data (len must equal Len) into the tensor.
func (t *Tensor) Set(data []float32) {
	if len(data) != t.Len() {
		panic(fmt.Sprintf("tensor: Set: %d values for shape %v", len(data), t.shape))
	}
	t.B.Write(t.View(), data)
}

// Reshape returns a view with a new shape of the same number of elements.
// One dimension may be -1 and is inferred.
func (t *Tensor) Reshape(shape ...int) *Tensor {
	s := clone(shape)
	infer, known := -1, 1
	for i, d := range s {
		if d == -1 {
			if infer >= 0 {
				panic("tensor: Reshape: more than one -1")
			}
			infer = i
			continue
		}
		known *= d
	}
	if infer >= 0 && known > 0 {
		s[infer] = t.Len() / known
	}
	if numel(s) != t.Len() {
		panic(fmt.Sprintf("tensor: Reshape %v to %v", t.shape, shape))
	}
	return &Tensor{B: t.B, buf: t.buf, off: t.off, shape: s, strides: stridesOf(s), prec: t.prec}
}

// Rows returns the view of rows [lo, hi) along the first dimension.
func (t *Tensor) Rows(lo, hi int) *Tensor {
	if len(t.shape) == 0 || lo < 0 || hi < lo || hi > t.shape[0] {
		panic(fmt.Sprintf("tensor: Rows(%d, %d) of shape %v", lo, hi, t.shape))
	}
	s := clone(t.shape)
	s[0] = hi - lo
	return &Tensor{B: t.B, buf: t.buf, off: t.off + lo*t.strides[0], shape: s, strides: stridesOf(s), prec: t.prec}
}

// Free releases the tensor's buffer. Only the owner of the storage (the
// tensor New returned, not a view) may call it, once.
func (t *Tensor) Free() { t.B.Free(t.buf) }

// String describes the tensor without reading it.
func (t *Tensor) String() string { return fmt.Sprintf("Tensor%v", t.shape) }

func numel(shape []int) int {
	n := 1
	for _, d := range shape {
		if d < 0 {
			panic(fmt.Sprintf("tensor: negative dimension in %v", shape))
		}
		n *= d
	}
	return n
}

func stridesOf(shape []int) []int {
	st := make([]int, len(shape))
	s := 1
	for i := len(shape) - 1; i >= 0; i-- {
		st[i] = s
		s *= shape[i]
	}
	return st
}

func clone(s []int) []int { return append([]int(nil), s...) }
