//go:build vulkan && cgo

package vulkan

import (
	"fmt"
	"unsafe"

	"github.com/goarpo/arpo/backend"
)

// This file is the backend.BF16 interface on Vulkan: bf16 buffers (two
// elements per 32-bit word, element 2w in the low half of word w, as the
// host's little-endian []uint16), ToBF16 (to_bf16.comp) and GemmBF16
// (gemm_tiled.comp specialised for bf16 operands, gemv_bf16.comp). No device extension is
// needed: shaders read words and widen a bf16 with a shift.

var _ backend.BF16 = (*Backend)(nil)

// AllocBF16 implements backend.BF16: a zeroed buffer of n bf16 elements,
// in half the bytes of a float32 buffer. Its Len and views count elements.
func (b *Backend) AllocBF16(n int) backend.Buffer {
	if n < 0 {
		panic(fmt.Sprintf("vulkan: AllocBF16(%d)", n))
	}
	return b.allocWords(&Buffer{n: n, bf16: true, owner: b}, uint64(max(n, 1)+1)/2, true)
}

// viewBF16 checks that v is a bf16 view holding n elements and binds them.
func (b *Backend) viewBF16(v backend.View, n int, write bool) (binding, uint32) {
	x := b.buffer(v.Buf)
	if !x.bf16 {
		panic(fmt.Sprintf("vulkan: a bf16 op got a float32 buffer of %d elements", x.n))
	}
	if v.Off < 0 || n < 0 || v.Off+n > x.n {
		panic(fmt.Sprintf("vulkan: view [%d, %d) outside a bf16 buffer of %d elements", v.Off, v.Off+n, x.n))
	}
	return b.bindViewBF16(x, v.Off, n, write)
}

// bindViewBF16 is bindView for a bf16 buffer: the window holds the words
// of elements [off, off+n), starting at the aligned byte offset at or
// below them; the returned offset is the view's first element relative to
// the window. The range tracked for hazards is widened to whole words, so
// that a dispatch rewriting a word (to_bf16 keeps a half it does not own)
// is ordered after every access to the other half.
func (b *Backend) bindViewBF16(buf *Buffer, off, n int, write bool) (binding, uint32) {
	bytes := (max(buf.n, 1) + 1) / 2 * 4
	start := off * 2 / b.align * b.align
	end := alignUp((off+max(n, 1))*2, 4)
	if end > bytes {
		end = max(bytes, start+4)
	}
	if uint64(end-start) > uint64(b.d.limits.MaxStorageBufferRange) {
		panic(fmt.Sprintf("vulkan: an op touches %d bytes of one buffer; the device's storage buffer range is %d", end-start, b.d.limits.MaxStorageBufferRange))
	}
	return binding{buf: buf.buf, offset: buf.base + uint64(start), rng: uint64(end - start), track: buf,
			lo: off &^ 1, hi: (off + n + 1) &^ 1, write: write},
		uint32(off - start/2)
}

// WriteBF16 implements backend.BF16: src (bf16 bits) is staged and copied
// in order with the queued ops.
func (b *Backend) WriteBF16(dst backend.View, src []uint16) {
	bd, _ := b.viewBF16(dst, len(src), true)
	if len(src) == 0 || b.err != nil {
		return
	}
	b.op()
	s, err := b.stage(len(src) * 2)
	if err != nil {
		b.err = err
		return
	}
	copy(s.uint16s(), src)
	// A transfer has no alignment rule: the copy covers the view's bytes
	// exactly, whatever its first element.
	bd.offset, bd.rng = bd.track.base+uint64(dst.Off)*2, uint64(len(src))*2
	b.copyBuffer(bindStaged(s), bd, uint64(len(src))*2)
}

// ReadBF16 implements backend.BF16.
func (b *Backend) ReadBF16(dst []uint16, src backend.View) error {
	bs, _ := b.viewBF16(src, len(dst), false)
	if b.err != nil {
		return b.err
	}
	if len(dst) == 0 {
		return b.Sync()
	}
	b.op()
	s, err := b.stage(len(dst) * 2)
	if err != nil {
		b.err = err
		return err
	}
	bs.offset, bs.rng = bs.track.base+uint64(src.Off)*2, uint64(len(dst))*2
	b.copyBuffer(bs, bindStaged(s), uint64(len(dst))*2)
	b.flushKeep(func() { copy(dst, s.uint16s()) })
	return b.err
}

// uint16s views staged bytes as uint16.
func (s staging) uint16s() []uint16 {
	return unsafe.Slice((*uint16)(unsafe.Add(s.c.ptr, s.off)), s.n/2)
}

// ToBF16 implements backend.BF16: n float32 elements of src rounded to
// bf16 into dst (asm.BF16FromF32's rounding, on the bits).
func (b *Backend) ToBF16(dst, src backend.View, n int) {
	if n < 0 {
		panic(fmt.Sprintf("vulkan: ToBF16 of %d elements", n))
	}
	if n == 0 {
		return
	}
	b.op()
	d, do := b.viewBF16(dst, n, true)
	s, so := b.view(src, n, false)
	words := (int(do)+n-1)/2 - int(do)/2 + 1
	b.dispatch("to_bf16", []binding{d, s}, []uint32{uint32(n), do, so}, groups(words, 256), 1)
}

// Operand types of gemm_tiled.comp (A_TYPE, B_TYPE).
const (
	operandF32        = 0 // float32, used as is (Gemm)
	operandF32AsBF16  = 1 // float32, rounded to bf16 as it is loaded
	operandBF16Packed = 2 // bf16, two per word
)

// bf16Operand binds an operand of GemmBF16, a bf16 or a float32 buffer,
// and returns its type for the shader.
func (b *Backend) bf16Operand(v backend.View, n int) (binding, uint32, uint32) {
	if b.buffer(v.Buf).bf16 {
		bd, off := b.viewBF16(v, n, false)
		return bd, off, operandBF16Packed
	}
	bd, off := b.view(v, n, false)
	return bd, off, operandF32AsBF16
}

// GemmBF16 implements backend.BF16: Gemm with bf16 products. Each of A and
// B may be a bf16 buffer or a float32 one, rounded to bf16 as its tiles
// are loaded into shared memory (no converted copy). The products are
// exact in float32 and summed in float32 by fma in k order within the k
// segments of gemmBF16Segments (chosen from k alone), the segment sums
// added in order; planGemmBF16 then picks the kernel (gemv_bf16 for
// decode, else the tile) and split-K by shape without changing a bit, so the rows of C depend on neither m nor the
// rows computed with them. alpha == 0 reads neither A nor B (BLAS
// semantics, as the CPU backend); beta == 0 ignores C (NaN included).
func (b *Backend) GemmBF16(transA, transB bool, m, n, k int, alpha float32, a backend.View, lda int, bv backend.View, ldb int, beta float32, c backend.View, ldc int) {
	ar, ac, br, bc := gemmShapes("GemmBF16", transA, transB, m, n, k, lda, ldb, ldc)
	if m == 0 || n == 0 {
		return
	}
	b.op()
	ab, ao, at := b.bf16Operand(a, extent(ar, ac, lda))
	bb, bo, bt := b.bf16Operand(bv, extent(br, bc, ldb))
	cb, co := b.view(c, extent(m, n, ldc), true)
	if alpha == 0 {
		k = 0 // the products are not referenced
	}
	plan := planGemmBF16(m, n, k, transB, b.maxInvocations())
	if b.gemmBF16Plan != nil {
		plan = b.gemmBF16Plan(m, n, k, transB)
	}
	g := gemmDispatch{transA: transA, transB: transB, m: m, n: n, k: k, alpha: alpha, beta: beta,
		a: ab, b: bb, c: cb, aOff: ao, bOff: bo, cOff: co, lda: lda, ldb: ldb, ldc: ldc,
		aVec: b2u(ao%4 == 0 && lda%4 == 0), bVec: b2u(bo%4 == 0 && ldb%4 == 0), kSeg: plan.kSeg}
	switch plan.kernel {
	case kernelGemv:
		if !transB || m > gemvRows {
			panic(fmt.Sprintf("vulkan: gemv_bf16 plan for m=%d transB=%v", m, transB))
		}
		b.gemvBF16(g, plan, []uint32{at, bt})
	case kernelTiled:
		b.gemmTiled(g, plan, append(plan.tile.spec(), at, bt, 1), "gemm_bf16/"+plan.tile.name)
	default:
		panic(fmt.Sprintf("vulkan: GemmBF16 plan with kernel %d", plan.kernel))
	}
}
