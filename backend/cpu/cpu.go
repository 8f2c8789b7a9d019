// Package cpu is the CPU implementation of backend.Backend: float32 ops in
// host memory, built on the SIMD kernels of package asm and parallel over a
// fixed number of goroutines.
//
// Every op partitions its work into the same pieces whatever the thread
// count, and each piece reduces in a fixed order, so results are bitwise
// identical for any thread count and from run to run.
package cpu

import (
	"fmt"
	"runtime"

	"github.com/goarpo/arpo/backend"
)

// Buffer is host memory. Code that knows it runs on the CPU backend may reach
// the slice through Data to avoid copies.
type Buffer struct {
	data []float32
}

// Len implements backend.Buffer.
func (b *Buffer) Len() int { return len(b.data) }

// Data returns the buffer's storage.
func (b *Buffer) Data() []float32 { return b.data }

// CPU is the CPU backend.
type CPU struct {
	threads int
	pool    *pool
}

// New returns a CPU backend that uses the given number of threads; 0 means
// GOMAXPROCS.
func New(threads int) *CPU {
	if threads <= 0 {
		threads = runtime.GOMAXPROCS(0)
	}
	return &CPU{threads: threads, pool: newPool(threads)}
}

// Threads returns the number of threads ops run on.
func (c *CPU) Threads() int { return c.threads }

// Name implements backend.Backend.
func (c *CPU) Name() string {
	return fmt.Sprintf("cpu (%s, %d threads)", asmLevel(), c.threads)
}

// Alloc implements backend.Backend.
func (c *CPU) Alloc(n int) backend.Buffer { return &Buffer{data: make([]float32, n)} }

// Free implements backend.Backend. Host memory is left to the garbage
// collector; dropping the slice lets it go sooner.
func (c *CPU) Free(b backend.Buffer) {
	switch h := b.(type) {
	case *BF16Buffer:
		h.data = nil
	case *PackedBF16Buffer:
		h.data = nil
	default:
		b.(*Buffer).data = nil
	}
}

// Write implements backend.Backend.
func (c *CPU) Write(dst backend.View, src []float32) { copy(slice(dst, len(src)), src) }

// Read implements backend.Backend. The CPU runs ops eagerly, so there is
// nothing to wait for.
func (c *CPU) Read(dst []float32, src backend.View) error {
	copy(dst, slice(src, len(dst)))
	return nil
}

// Sync implements backend.Backend.
func (c *CPU) Sync() error { return nil }

// slice returns n elements of v's buffer starting at v.Off.
func slice(v backend.View, n int) []float32 {
	d := v.Buf.(*Buffer).data
	return d[v.Off : v.Off+n : v.Off+n]
}

// Slice returns n elements of a CPU view, for code that knows it runs on
// this backend (tests, the CPU inference path).
func Slice(v backend.View, n int) []float32 { return slice(v, n) }
